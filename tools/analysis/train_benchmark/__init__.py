"""The training-step benchmark: our MaskFormer against the MaskFormer inside
mmseg (mmdet's head), or our Mask2Former against mmdet's, as the baseline,
in one process, at equal weights and inputs.

Modules, in the order a run uses them:

* :mod:`.models`: both models from their own configs (the baseline from
  mmseg's installed config), our weights copied into the baseline, the
  synthetic batch;
* :mod:`.probes`: :class:`~.probes.MatchingProbe`, an assigner that both
  configs name in place of their own (it builds and calls the real one) so
  that the matching can be timed, counted and recorded without patching
  either model;
* :mod:`.phases`: the phases of one training step (module hooks), their
  wall-clock times, and the training step itself;
* :mod:`.measures`: device-independent measures of one step: dispatched ops
  and host-device syncs per phase, peak memory by kind;
* :mod:`.loss_check`: the loss terms of both sides at equal weights, with
  each side's own matching and with ours under the baseline's;
* :mod:`.point_replay` (Mask2Former): the loss terms of both sides under
  the same random points, ours recorded and replayed into mmdet's head;
* :mod:`.ab_run`: the alternating A/B run that produces the result dict;
* :mod:`.report`: the result as text.

The command line is ``tools/analysis/benchmark_train.py``; mmseg/mmdet
classes are only imported here as the baseline being measured (mmdet's
``torch.rand`` is replaced only inside the Mask2Former loss check).
"""
