"""Plots the output of `recon-bench --scale` (TV 3D on N³ cubes): time per iteration and peak
RSS against N, log-log, epri and PyEPRI, with an N³ log N guide through epri's first point.

Usage: python3 bench/plot_scale.py OUTPUT.txt PLOT.png
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def rows(path):
    """(N, epri ms/iter, epri MiB, PyEPRI ms/iter or nan, PyEPRI MiB or nan) per table row."""
    out = []
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0].isdigit():
            num = lambda c: float("nan") if c == "-" else float(c)
            out.append((int(cells[0]), num(cells[3]), num(cells[4]), num(cells[6]), num(cells[7])))
    return np.array(out, dtype=float)


def main():
    data = rows(sys.argv[1])
    n = data[:, 0]
    guide = n**3 * np.log(n)
    fig, axes = plt.subplots(1, 2, figsize=(6, 4), dpi=100)
    for ax, (col, title, unit) in zip(axes, [(1, "time per TV iteration", "ms"),
                                             (2, "peak RSS", "MiB")]):
        ax.loglog(n, data[:, col], "o-", color="tab:blue", label="epri (CPU, 2 threads)")
        ax.loglog(n, data[:, col + 2], "s-", color="tab:orange", label="PyEPRI 1.1.1 numpy")
        ax.loglog(n, data[0, col] * guide / guide[0], "--", color="gray", label="N³ log N")
        ax.set_xticks(n, [str(int(v)) for v in n])
        ax.minorticks_off()
        ax.set_xlabel("N (image N³, Toeplitz grid (2N)³)")
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", color="0.9")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    # Few colours: an 8-colour palette keeps the PNG small.
    Image.open(sys.argv[2]).convert("RGB").quantize(8).save(sys.argv[2], optimize=True)


if __name__ == "__main__":
    main()
