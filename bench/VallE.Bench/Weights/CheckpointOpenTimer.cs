using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using VallE.Weights;
using VallE.Weights.Torch;

namespace VallE.Bench.Weights;

/// <summary>
/// Stopwatch timing of <see cref="TorchCheckpoint.Open"/> on one large file, for bench/checkpoint-open.sh, which runs
/// it beside <c>torch.load</c> (and under /usr/bin/time -v for peak RSS; a separate process per mode so each peak
/// is its own). BenchmarkDotNet would re-run a 1.4 GB read dozens of times; this reports min and median of a few.
/// <code>VallE.Bench checkpoint-open FILE [--touch] [--reps N]</code>
/// Without --touch: open, unpickle and build a validated view of every tensor (storages stay unread mmap windows).
/// With --touch: also read every byte of every distinct storage once (a checksum), the work torch.load always does.
/// </summary>
public static class CheckpointOpenTimer
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) { Console.Error.WriteLine("usage: VallE.Bench checkpoint-open FILE [--touch] [--reps N]"); return 2; }
        string path = args[0];
        bool touch = args.Contains("--touch");
        int reps = args.SkipWhile(a => a != "--reps").Skip(1).Select(int.Parse).FirstOrDefault(3);

        var times = new List<double>();
        long tensors = 0, bytes = 0;
        ulong checksum = 0;
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            using (var ck = TorchCheckpoint.Open(path))
            {
                var all = ck.AllTensors().ToList();
                tensors = all.Count;
                bytes = all.Select(t => t.Storage).Distinct().Sum(s => s.ByteLength);
                if (touch) checksum = Checksum(all.Select(t => t.Storage).Distinct());
            }
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"csharp mode={(touch ? "open+read" : "open")} tensors={tensors} storage_bytes={bytes} " +
                          $"min_ms={times[0]:F1} median_ms={times[times.Count / 2]:F1} reps={reps}" +
                          (touch ? $" checksum={checksum:x16}" : "") + $" {ProcessMemory()}");
        return 0;
    }

    /// <summary>Sums every 8-byte word of every storage (vectorised): forces each page to be read once.</summary>
    private static ulong Checksum(IEnumerable<TensorStorage> storages)
    {
        ulong total = 0;
        foreach (var s in storages)
        {
            for (long at = 0; at < s.ByteLength;)
            {
                int n = (int)Math.Min(1 << 30, s.ByteLength - at);
                var span = s.Slice(at, n);
                var words = MemoryMarshal.Cast<byte, ulong>(span);
                var acc = Vector<ulong>.Zero;
                var vectors = MemoryMarshal.Cast<ulong, Vector<ulong>>(words);
                foreach (var v in vectors) acc += v;
                total += Vector.Sum(acc);
                for (int i = vectors.Length * Vector<ulong>.Count; i < words.Length; i++) total += words[i];
                for (int i = words.Length * 8; i < span.Length; i++) total += span[i];
                at += n;
            }
        }
        return total;
    }

    /// <summary>Resident memory split into private (anonymous) and file-backed (shared page cache) pages, in MiB.</summary>
    private static string ProcessMemory()
    {
        try
        {
            var fields = File.ReadAllLines("/proc/self/status")
                .Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => p[1].Trim());
            string MiB(string key) => fields.TryGetValue(key, out var v) ? $"{long.Parse(v.Split(' ')[0]) / 1024}" : "?";
            return $"peak_rss_mib={MiB("VmHWM")} rss_anon_mib={MiB("RssAnon")} rss_file_mib={MiB("RssFile")}";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
