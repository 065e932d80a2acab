#!/usr/bin/python3
"""Per-department geoflux runs fanned out on Dask distributed, then merged.

Each department's inputs go through one `geoflux convert` run on a Dask
worker (NDJSON + GeoPackage + PMTiles in one pass, with that department's
commune boundaries); once every run is done, `geoflux merge` joins the
GeoPackages and the PMTiles archives, and the NDJSON files are
concatenated in department order (one feature per line: the concatenation
is what a single run over the same inputs in the same order writes).

Departments come from a JSON file, a list in the order the merged outputs
keep them:
    [{"name": "35", "communes": "communes-35.geojson",
      "inputs": ["bal-35047.csv", "bal-35058.csv"]}, ...]
("communes" may be left out; relative paths are read from the JSON file's
folder.)

Cluster: --workers N starts a LocalCluster of N single-threaded worker
processes on this machine; --scheduler ADDRESS (tcp://host:8786) uses a
running Dask cluster instead, whose workers must see the same paths (a
shared file system) and have geoflux at --geoflux's path.

Outputs in OUTDIR: NAME/adresses.{geojsonl,gpkg,pmtiles} per department,
and adresses.{geojsonl,gpkg,pmtiles} merged. Existing outputs are refused
unless --overwrite.

Exit codes: 0 ok, 2 usage error (bad arguments, departments file), 3 a run
or the merge failed (its messages are printed).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

EXTS = ("geojsonl", "gpkg", "pmtiles")


def convert_department(geoflux, dept, outdir, extra, overwrite):
    """Runs on a worker: one department's convert. Returns (name, code, stderr, seconds)."""
    os.makedirs(os.path.join(outdir, dept["name"]), exist_ok=True)
    cmd = [geoflux, "convert", *dept["inputs"], "-q"]
    if dept.get("communes"):
        cmd += ["--communes", dept["communes"]]
    for ext in EXTS:
        cmd += ["-o", os.path.join(outdir, dept["name"], "adresses." + ext)]
    if overwrite:
        cmd.append("--overwrite")
    cmd += extra
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return dept["name"], p.returncode, p.stderr, time.monotonic() - t0


def load_departments(path):
    with open(path, encoding="utf-8") as f:
        depts = json.load(f)
    base = os.path.dirname(os.path.abspath(path))
    if not isinstance(depts, list) or not depts:
        raise ValueError("a non-empty JSON list of departments is expected")
    names = set()
    for d in depts:
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not d["name"] \
                or not isinstance(d.get("inputs"), list) or not d["inputs"]:
            raise ValueError("each department needs a name and a non-empty list of inputs: %r" % (d,))
        if "/" in d["name"] or d["name"] in (".", "..") or d["name"] in names:
            raise ValueError("department name %r is not a usable, unique folder name" % d["name"])
        names.add(d["name"])
        d["inputs"] = [os.path.join(base, p) for p in d["inputs"]]
        if d.get("communes"):
            d["communes"] = os.path.join(base, d["communes"])
        for p in d["inputs"] + ([d["communes"]] if d.get("communes") else []):
            if not os.path.isfile(p):
                raise ValueError("department %s: %s: no such file" % (d["name"], p))
    return depts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("departments", help="JSON file: [{name, communes, inputs}, ...]")
    ap.add_argument("-o", "--outdir", required=True, help="output folder")
    ap.add_argument("--geoflux", default=shutil.which("geoflux") or "geoflux", help="geoflux binary (default: from PATH)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    g.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786)")
    ap.add_argument("--threads", type=int, default=1, help="geoflux -j of each run (default 1)")
    ap.add_argument("--maxzoom", type=int, help="tiles' maximum zoom (geoflux default: 14)")
    ap.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    a = ap.parse_args()
    if a.workers < 1 or a.threads < 1:
        ap.error("--workers and --threads take a positive number")
    try:
        depts = load_departments(a.departments)
    except (OSError, ValueError) as e:
        print("dask_departments: error: %s: %s" % (a.departments, e), file=sys.stderr)
        return 2
    geoflux = os.path.abspath(a.geoflux) if os.path.sep in a.geoflux else a.geoflux
    outdir = os.path.abspath(a.outdir)
    os.makedirs(outdir, exist_ok=True)
    merged = [os.path.join(outdir, "adresses." + e) for e in EXTS]
    if not a.overwrite:
        for p in merged:
            if os.path.exists(p):
                print("dask_departments: error: %s exists; give --overwrite to replace it" % p, file=sys.stderr)
                return 2
    extra = ["-j", str(a.threads)]
    if a.maxzoom is not None:
        extra += ["--maxzoom", str(a.maxzoom)]

    # imported here: --help and argument errors need no Dask
    from dask.distributed import Client, LocalCluster
    cluster = None
    if a.scheduler:
        client = Client(a.scheduler)
    else:
        # workers as threads of this process: a task only waits for its geoflux
        # process, and worker processes would cost seconds of start-up each
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=False, dashboard_address=None)
        client = Client(cluster)
    try:
        t0 = time.monotonic()
        futures = [client.submit(convert_department, geoflux, d, outdir, extra, a.overwrite, pure=False,
                                 key="convert-" + d["name"]) for d in depts]
        results = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    failed = 0
    for name, code, err, secs in results:
        print("dask_departments: department %s: convert exit %d in %.1f s" % (name, code, secs), file=sys.stderr)
        if code:
            failed = 1
            sys.stderr.write(err)
    if failed:
        return 3

    # the merge, here: one process reading every department's outputs
    for ext, out in zip(("gpkg", "pmtiles"), merged[1:]):
        cmd = [geoflux, "merge", *[os.path.join(outdir, d["name"], "adresses." + ext) for d in depts], "-o", out, "-q"]
        if a.overwrite:
            cmd.append("--overwrite")
        p = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
        if p.returncode:
            sys.stderr.write(p.stderr)
            return 3
    tmp = merged[0] + ".tmp-%d" % os.getpid()
    try:
        with open(tmp, "wb") as w:
            for d in depts:
                with open(os.path.join(outdir, d["name"], "adresses.geojsonl"), "rb") as r:
                    shutil.copyfileobj(r, w)
        os.replace(tmp, merged[0])
    except OSError as e:
        print("dask_departments: error: %s: %s" % (merged[0], e), file=sys.stderr)
        if os.path.exists(tmp):
            os.unlink(tmp)
        return 3
    print("dask_departments: %d departments in %.1f s; merged: %s" % (len(depts), time.monotonic() - t0, ", ".join(merged)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
