"""Run a MaskFormer checkpoint on every frame of a video (or a camera).

    python demo/video_demo.py VIDEO CONFIG CKPT --output-file out.mp4 \
        [--task semantic|panoptic|instance] [--device cpu] [--opacity 0.5] \
        [--output-fourcc mp4v] [--output-fps N] [--output-height H] \
        [--output-width W] [--show] [--show-wait-time 1]

The flags of mmseg's ``demo/video_demo.py`` (VIDEO may be a camera index),
plus ``--task``. Reads with OpenCV, shows a progress bar, writes the drawn
frames.
"""
import argparse
import os.path as osp
import sys

DEMO = osp.dirname(osp.abspath(__file__))
sys.path[:0] = [osp.dirname(DEMO), DEMO]  # the package, and build_inferencer

import cv2  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('video', help='video file or camera index')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--task', default=None,
                        help='semantic, panoptic or instance (the task table '
                        'of mmmaskformer.apis.tasks); default: what the '
                        'config was trained for')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--threshold', type=float, default=None)
    parser.add_argument('--show', action='store_true')
    parser.add_argument('--show-wait-time', type=int, default=1)
    parser.add_argument('--output-file', default=None)
    parser.add_argument('--output-fourcc', default='mp4v')
    parser.add_argument('--output-fps', type=int, default=-1)
    parser.add_argument('--output-height', type=int, default=-1)
    parser.add_argument('--output-width', type=int, default=-1)
    args = parser.parse_args(argv)
    if not (args.show or args.output_file):
        parser.error('nothing to do: give --output-file and/or --show')
    source = int(args.video) if args.video.isdigit() else args.video
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise SystemExit(f'{args.video}: cannot be opened as a video')
    from build_inferencer import build_inferencer  # imports the package
    inferencer = build_inferencer(args)
    fps = args.output_fps if args.output_fps > 0 else \
        capture.get(cv2.CAP_PROP_FPS) or 25
    width = args.output_width if args.output_width > 0 else \
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = args.output_height if args.output_height > 0 else \
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = cv2.VideoWriter(
        args.output_file, cv2.VideoWriter_fourcc(*args.output_fourcc), fps,
        (width, height)) if args.output_file else None
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    bar = ProgressBar(total) if total > 0 else None
    frames = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            out = inferencer(frame, task=args.task, threshold=args.threshold,
                             return_vis=True)
            drawn = out['visualization'][0][..., ::-1]  # BGR
            if drawn.shape[:2] != (height, width):
                drawn = cv2.resize(drawn, (width, height))
            if writer is not None:
                writer.write(drawn)
            if args.show:
                cv2.imshow('video_demo', drawn)
                if cv2.waitKey(args.show_wait_time) & 0xFF == 27:
                    break
            frames += 1
            if bar:
                bar.update()
    finally:
        capture.release()
        if writer is not None:
            writer.release()
        if args.show:
            cv2.destroyAllWindows()
    if bar:
        print()
    print(f'{frames} frames' + (f' -> {args.output_file}'
                                if args.output_file else ''))
    return frames


if __name__ == '__main__':
    main()
