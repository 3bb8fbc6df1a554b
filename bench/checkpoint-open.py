#!/usr/bin/env python3
"""torch.load timing for bench/checkpoint-open.sh: min/median of N loads of FILE (import time excluded),
then peak/anonymous/file-backed RSS of this process, in the same one-line format as the C# timer."""
import os
import statistics
import sys
import time

import torch


def memory():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    mib = lambda k: int(fields[k].split()[0]) // 1024 if k in fields else "?"
    return f"peak_rss_mib={mib('VmHWM')} rss_anon_mib={mib('RssAnon')} rss_file_mib={mib('RssFile')}"


def main():
    path, reps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        ck = torch.load(path, map_location="cpu")
        sd = ck["model"] if isinstance(ck, dict) and "model" in ck else ck
        n = sum(1 for v in sd.values() if torch.is_tensor(v))
        times.append((time.perf_counter() - t0) * 1000)
        del ck, sd
    times.sort()
    print(f"torch mode=torch.load tensors={n} min_ms={times[0]:.1f} median_ms={times[len(times) // 2]:.1f} reps={reps} "
          f"torch={torch.__version__} {memory()}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    main()
