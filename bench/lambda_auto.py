"""Cost of `epri tv --lambda auto` against one reconstruction at a fixed λ, on a simulated
acquisition of the phalanx's size (the measured phalanx projections have noise correlated along
B, on which the automatic rules refuse: see `epri info --data phalanx-20220203`).

Simulation: a 400 x 200 phantom of 0.008 cm pixels (disks and a bar), projected by `epri project`
with the phalanx's B, h and 113 gradients (2000 field samples), plus white Gaussian noise of
standard deviation max|s| / 30. Then, with the release binary on the CPU backend:
    epri tv ... --lambda <chosen λ> --iters 1000 --tol 1e-5     (one reconstruction)
    epri tv ... --lambda auto --iters 1000 --tol 1e-5            (search + final reconstruction)
    epri tv ... --lambda auto:discrepancy --iters 1000 --tol 1e-5
each REPS times, median wall time of the whole process.

Usage: python3 bench/lambda_auto.py [REPS] [EPRI_BINARY]
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    epri = sys.argv[2] if len(sys.argv) > 2 else "target/release/epri"
    ds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "phalanx-20220203")
    tmp = tempfile.mkdtemp(prefix="epri-lambda-bench-")
    for f in ("B", "h", "fgrad"):
        np.save(f"{tmp}/{f}.npy", np.load(f"{ds}/{f}.npy"))
    y, x = np.mgrid[0:400, 0:200]
    y, x = (y - 200) * 0.008, (x - 100) * 0.008
    u = np.zeros((400, 200), np.float32)
    u[(x - 0.2) ** 2 + (y - 0.4) ** 2 < 0.3 ** 2] = 1.0
    u[(x + 0.3) ** 2 + (y + 0.5) ** 2 < 0.15 ** 2] = 0.6
    u[(abs(x) < 0.1) & (abs(y + 0.1) < 0.6)] += 0.4
    np.save(f"{tmp}/u.npy", u)
    files = ["--B", f"{tmp}/B.npy", "--h", f"{tmp}/h.npy", "--fgrad", f"{tmp}/fgrad.npy"]
    subprocess.run([epri, "project", "--image", f"{tmp}/u.npy", *files, "--delta", "0.008",
                    "--out", f"{tmp}/clean.npy"], check=True, capture_output=True)
    clean = np.load(f"{tmp}/clean.npy").astype(np.float64)
    sigma = np.abs(clean).max() / 30
    rng = np.random.default_rng(0)
    np.save(f"{tmp}/proj.npy", (clean + sigma * rng.standard_normal(clean.shape)).astype(np.float32))
    common = ["tv", "--proj", f"{tmp}/proj.npy", *files, "--delta", "0.008", "--shape", "400,200",
              "--iters", "1000", "--tol", "1e-5", "--quiet", "--out", f"{tmp}/out.npy"]

    def run(lam):
        times, text = [], ""
        for _ in range(reps):
            t0 = time.perf_counter()
            r = subprocess.run([epri, *common, "--lambda", lam], check=True, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            text = r.stdout
        err = np.linalg.norm(np.load(f"{tmp}/out.npy") - u) / np.linalg.norm(u)
        return float(np.median(times)), text, err

    t_auto, text, err_auto = run("auto")
    lam = re.search(r"λ = (\S+) chosen", text).group(1)
    trials = re.search(r"from (\d+) trials", text).group(1)
    t_fixed, _, err_fixed = run(lam)
    t_dp, text_dp, err_dp = run("auto:discrepancy")
    lam_dp = re.search(r"λ = (\S+) chosen", text_dp).group(1)
    trials_dp = re.search(r"from (\d+) trials", text_dp).group(1)
    print(f"fixed λ = {lam}: {t_fixed:.2f} s (error to the phantom {err_fixed:.4f})")
    print(f"auto (SURE): λ = {lam}, {trials} trials, {t_auto:.2f} s = {t_auto / t_fixed:.2f}x (error {err_auto:.4f})")
    print(f"auto:discrepancy: λ = {lam_dp}, {trials_dp} trials, {t_dp:.2f} s = {t_dp / t_fixed:.2f}x (error {err_dp:.4f})")


if __name__ == "__main__":
    main()
