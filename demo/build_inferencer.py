"""The inferencer of ``image_demo.py`` and ``video_demo.py``, or a one-line
exit that says what is wrong (a missing config or checkpoint, an unsafe
checkpoint, a task or threshold the config's model does not take), before
any image is read."""
from mmmaskformer.apis import MaskFormerInferencer
from mmmaskformer.errors import RunStopped


def build_inferencer(args) -> MaskFormerInferencer:
    """``args``: ``config``, ``checkpoint``, ``device``, ``opacity``,
    ``task`` and ``threshold`` of the demos' command lines."""
    try:  # these messages name the file
        inferencer = MaskFormerInferencer(args.config, args.checkpoint,
                                          device=args.device,
                                          show_progress=False)
    except (FileNotFoundError, ValueError, RunStopped) as e:
        raise SystemExit(str(e)) from None
    try:
        inferencer.test_cfg_for(args.task or inferencer.default_task,
                                threshold=args.threshold)
    except ValueError as e:
        raise SystemExit(f'{args.config}: {e}') from None
    if hasattr(inferencer.visualizer, 'alpha'):
        inferencer.visualizer.alpha = args.opacity
    return inferencer
