#!/usr/bin/env python3
"""Summarise one run of Benchmarks/run_ann.sh: QPS at recall@10 = 0.95 (linear
interpolation between the two measured ef values around it) per engine and
data set, the ratios the issue asks for, and one recall/QPS plot per data set."""
import glob, json, os, sys
from collections import defaultdict

TARGET = 0.95

def load(out):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                if "engine" in r:
                    name = "strata" if r["quantization"] == "none" else f"strata-{r['quantization']}"
                    if r.get("datatype", "float32") != "float32": name += f"-{r['datatype']}"
                    if r.get("default_segment_number"): name += f"-{r['default_segment_number']}seg"
                    if r.get("cold"): name += "-cold"
                    r["name"] = name
                else:
                    r["name"] = r["peer"]
                rows.append(r)
    return rows

def at_target(points, target=TARGET):
    """QPS at recall `target`, interpolated; None when no ef reaches it."""
    points = sorted(points, key=lambda r: r["recall10"])
    for i, r in enumerate(points):
        if r["recall10"] >= target:
            if i == 0:
                return r["qps"], r
            lo = points[i - 1]
            f = (target - lo["recall10"]) / (r["recall10"] - lo["recall10"])
            return lo["qps"] + f * (r["qps"] - lo["qps"]), r
    return None, None

def main(out):
    rows = load(out)
    by = defaultdict(list)
    for r in rows:
        by[(r["data"], r["name"])].append(r)
    datasets = sorted({d for d, _ in by})
    lines = []
    qps = {}
    for data in datasets:
        lines.append(f"## {data}")
        lines.append(f"{'engine':<22} {'QPS@0.95':>10} {'best recall':>12} {'build s':>9} {'p99 ms@0.95':>12} {'rss MB':>8} {'disk MB':>8} {'pages/query':>12}")
        for (d, name), points in sorted(by.items()):
            if d != data: continue
            q, first = at_target(points)
            qps[(data, name)] = q
            best = max(p["recall10"] for p in points)
            build = points[0].get("build_s")
            p99 = first.get("p99_ms") if first else None
            rss = first.get("rss_mb_after_open") if first else None
            disk = first.get("disk_mb") if first else None
            pages = first.get("pages_read_per_query") if first else None
            fmt = lambda v, f: (f % v) if isinstance(v, (int, float)) and v is not None and v >= 0 else "-"
            lines.append(f"{name:<22} {fmt(q, '%.0f'):>10} {best:>12.4f} {fmt(build, '%.1f'):>9} {fmt(p99, '%.3f'):>12} {fmt(rss, '%.0f'):>8} {fmt(disk, '%.0f'):>8} {fmt(pages, '%.1f'):>12}")
        lines.append("")
    lines.append("## ratios (QPS at recall@10 = 0.95, same run)")
    def ratio(data, a, b):
        x, y = qps.get((data, a)), qps.get((data, b))
        return f"{x / y:.2f}x" if x and y else "n/a"
    for data in datasets:
        lines.append(f"{data}: strata/hnswlib {ratio(data, 'strata', 'hnswlib')}, strata-2seg/hnswlib {ratio(data, 'strata-2seg', 'hnswlib')}, strata/qdrant-edge {ratio(data, 'strata', 'qdrant-edge')}, "
                     f"strata/faiss {ratio(data, 'strata', 'faiss-hnsw')}, strata/usearch {ratio(data, 'strata', 'usearch')}, "
                     f"int8/float {ratio(data, 'strata-int8', 'strata')}, binary/float {ratio(data, 'strata-binary', 'strata')}, binary2/float {ratio(data, 'strata-binary2', 'strata')}, "
                     f"strata-int8/qdrant-edge-int8 {ratio(data, 'strata-int8', 'qdrant-edge-int8')}")
        def ratio90(a, b):
            x, y = at_target(by.get((data, a), []), 0.90)[0], at_target(by.get((data, b), []), 0.90)[0]
            return f"{x / y:.2f}x" if x and y else "n/a"
        lines.append(f"  at recall 0.90 (for peers that never reach 0.95): strata/hnswlib {ratio90('strata', 'hnswlib')}, "
                     f"strata/qdrant-edge {ratio90('strata', 'qdrant-edge')}")
        s = by.get((data, "strata")); e = by.get((data, "qdrant-edge"))
        if s and e and s[0].get("build_s") and e[0].get("build_s"):
            lines.append(f"  ingest+index time strata/qdrant-edge: {s[0]['build_s'] / e[0]['build_s']:.2f}x ({s[0]['build_s']:.1f} s vs {e[0]['build_s']:.1f} s)")
    print("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib missing: no plots)")
        return
    for data in datasets:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for (d, name), points in sorted(by.items()):
            if d != data: continue
            points = sorted(points, key=lambda r: r["ef"])
            style = "-o" if name.startswith("strata") else "--s"
            ax.plot([p["recall10"] for p in points], [p["qps"] for p in points], style, label=name, markersize=4)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second (1 thread, log)")
        ax.set_title(f"{data}: m=16, ef_construct=100")
        ax.axvline(TARGET, color="grey", linewidth=0.8, linestyle=":")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f"ann-{data}.png"), dpi=110)

if __name__ == "__main__":
    main(sys.argv[1])
