"""Every target of issue 12 in one run: the benchmark binaries (CPU backend) side by side with
their references, then one table of ratios against the targets. Run from the repository root
after `cargo build --release -p epri-demos -p epri-ops --bins`, with PyEPRI 1.1.1, finufft and
numpy importable by `python3`:

    python3 bench/issue12.py [EPRI_BIN_DIR]      # default target/release

Each line below names the commands it runs; the raw outputs go to stderr.
* TV phalanx (README main job's problem, 1000 iterations): `recon-bench --case tv2d_phalanx
  --threads 2` and `--threads 1` (median of 3 solves each), PyEPRI `bench/recon_pyepri.py
  tv2d_phalanx 3` (median of 3 after a warm-up);
* one TV iteration against its Toeplitz apply: `recon-bench --breakdown` (phalanx line: the
  median over rounds of the iteration / apply ratio, both timed in each round);
* source separation: the whole `epri separate` process (3 runs each, median wall time),
  PyEPRI `bench/multisrc_pyepri.py 3`;
* `epri project` 100³ × 1000 × 512: `bench/project100.py 9` (whole process vs PyEPRI proj3d);
* batched rFFT / irFFT: `fft-bench 101` vs `bench/fft_numpy.py 101` (numpy: 1 thread; medians
  of 101 calls each: over 21, a few slow seconds of the shared host moved whole medians); the
  target is on the f64 1D and 2D cases, the f32 and 3D cases are shown alongside.
"""

import os
import re
import statistics
import subprocess
import sys
import time


def run(args, env=None):
    """Runs a command, echoes its output to stderr, returns its stdout."""
    e = dict(os.environ, **(env or {}))
    out = subprocess.run(args, capture_output=True, text=True, env=e)
    sys.stderr.write(f"$ {' '.join(args)}\n{out.stdout}{out.stderr}")
    if out.returncode != 0:
        raise SystemExit(f"{args[0]} failed with status {out.returncode}")
    return out.stdout


def results(text):
    """`RESULT<TAB>name<TAB>ms...` lines as {name: ms}."""
    return {f[1]: float(f[2]) for f in (l.split("\t") for l in text.splitlines())
            if f[0] == "RESULT"}


def wall(args, reps):
    t = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        t.append(time.perf_counter() - start)
    sys.stderr.write(f"$ {' '.join(args)}: {', '.join(f'{x:.3f}' for x in t)} s\n")
    return statistics.median(t) * 1e3


def fft_table(text):
    """{(case, dtype): (rfft ms, irfft ms)} from a markdown table of fft-bench or fft_numpy."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("numpy"):
            cells = cells[1:]
        if len(cells) >= 4 and cells[0].startswith("rfft"):
            dtype = {"float32": "f32", "float64": "f64"}.get(cells[1], cells[1])
            num = lambda c: float(c.split()[0])
            rows[(cells[0], dtype)] = (num(cells[2]), num(cells[3]))
    return rows


def main():
    bins = sys.argv[1] if len(sys.argv) > 1 else "target/release"
    epri, recon, fft = (os.path.join(bins, b) for b in ("epri", "recon-bench", "fft-bench"))
    rows = []  # (workload, epri, reference, ratio, target, met)
    load = [os.getloadavg()[0]]

    py = results(run(["python3", "bench/recon_pyepri.py", "tv2d_phalanx", "3"]))["tv2d_phalanx"]
    for threads, target in ((2, 6.0), (1, 3.5)):
        ms = results(run([recon, "--case", "tv2d_phalanx", "--threads", str(threads),
                          "--reps", "3"]))["tv2d_phalanx"]
        rows.append((f"TV phalanx, {threads} thread(s)", f"{ms:.0f} ms", f"{py:.0f} ms",
                     py / ms, f">= {target}x", py / ms >= target))

    text = run([recon, "--breakdown"])
    m = re.search(r"tv2d_phalanx.*rounds, Toeplitz A\*A ([\d.]+) ms, solver iteration ([\d.]+) ms"
                  r" = ([\d.]+)x", text)
    apply_ms, iter_ms, ratio = (float(m.group(k)) for k in (1, 2, 3))
    rows.append(("TV iteration / its Toeplitz apply", f"{iter_ms:.3f} ms", f"{apply_ms:.3f} ms",
                 ratio, "<= 1.3x", ratio <= 1.3))

    py = results(run(["python3", "bench/multisrc_pyepri.py", "3"]))
    separations = [
        ("tv3d_tam_insert", "separation 3D tam-insert", ["--data", "tam-insert-in-tempo-20230929",
         "--delta", "0.1", "--shapes", "30,15,15;50,20,20", "--lambda", "2e-5", "--iters", "1000"]),
        ("tv2d_tam_tempo", "separation 2D tam/tempo", ["--data", "tam-and-tempo-tubes-2d-20210609",
         "--delta", "0.03", "--shapes", "100,100", "--lambda", "5", "--iters", "5000"]),
    ]
    for key, name, args in separations:
        ms = wall([epri, "separate", *args, "--quiet", "--out", "/tmp/issue12-separate"], 3)
        rows.append((name, f"{ms:.0f} ms", f"{py[key]:.0f} ms", py[key] / ms, ">= 4x",
                     py[key] / ms >= 4))

    text = run(["python3", "bench/project100.py", "9", epri])
    py_s = float(re.search(r"PyEPRI proj3d\t([\d.]+) s", text).group(1))
    ep_s = float(re.search(r"project \(whole process\)\t([\d.]+) s", text).group(1))
    rows.append(("`epri project` 100³ (whole process)", f"{ep_s * 1e3:.0f} ms",
                 f"{py_s * 1e3:.0f} ms", py_s / ep_s, ">= 4x", py_s / ep_s >= 4))

    mine = fft_table(run([fft, "101"]))
    numpy = fft_table(run(["python3", "bench/fft_numpy.py", "101"]))
    for (case, dtype), (f, i) in sorted(mine.items()):
        nf, ni = numpy[(case, dtype)]
        # The FFT target is f64, 1D and 2D; the f32 and 3D cases are shown alongside.
        target = dtype == "f64" and not case.startswith("rfftn")
        for kind, a, b in (("rfft", f, nf), ("irfft", i, ni)):
            rows.append((f"{case} {dtype} {kind}", f"{a:.3f} ms", f"{b:.3f} ms", b / a,
                         ">= 2x" if target else "(shown)", b / a >= 2 if target else None))
    load.append(os.getloadavg()[0])

    print(f"issue 12 targets, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load {load[0]:.2f} at the start, {load[1]:.2f} at the end")
    print()
    print("| workload | epri | reference | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for name, a, b, ratio, target, ok in rows:
        met = "—" if ok is None else "yes" if ok else "**no**"
        print(f"| {name} | {a} | {b} | {ratio:.2f}x | {target} | {met} |")
    print()
    targets = [r[5] for r in rows if r[5] is not None]
    print(f"{sum(targets)} of {len(targets)} targets met")


if __name__ == "__main__":
    main()
