"""A contact sheet of a project: one row per shot, evenly spaced frames (the README's figure).

    python bench/demo_sheet.py assets/demo/Demo.zoetrope docs/figures/demo_sheet.png [--model M]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.document import Project
from engine.evaluate import save_png
from engine.frames.director import Director
from engine.samples import grid_image


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("project")
    p.add_argument("out")
    p.add_argument("--model")
    p.add_argument("--frames", type=int, default=8, help="frames per shot")
    p.add_argument("--tile-width", type=int, default=200, help="each frame's width in the sheet")
    args = p.parse_args()
    project = Project.open(args.project)
    director = Director(project, args.model, device="cpu")
    timeline = project.timeline
    rows, labels = [], []
    for shot in project.shots:
        start = timeline.start_of(shot.id)
        picks = np.linspace(0, shot.duration - 1, args.frames).round().astype(int)
        tiles = np.stack([director.frame(start + int(k)) for k in picks])
        h, w = tiles.shape[1:3]
        size = (args.tile_width, round(args.tile_width * h / w))
        rows.append(np.stack([cv2.resize(t, size, interpolation=cv2.INTER_AREA) for t in tiles]))
        labels.append(shot.name)
    save_png(grid_image(rows, labels, label_width=300), Path(args.out))


if __name__ == "__main__":
    main()
