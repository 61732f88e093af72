"""What the web view costs (README, "What it costs"): alternating short runs, since the
machine is shared, with medians and ranges.

TCP: a server started without --http, with it, and with it and one page watching (curl on the
game's event stream), loaded by `netsecgame bench --agents 1,16 --addr`; the server's CPU time
per step from /proc. In-process: `netsecgame bench --in_process --games 64` the same three ways.

    python3 docs/web-cost.py [ROUNDS=7] [SECONDS=3]      # NETSECGAME=path/to/binary (default target/release/netsecgame)

Needs Linux (/proc) and curl; uses ports 9611, 8611 and 8612."""
import os, re, statistics, subprocess, sys, time

B = os.environ.get("NETSECGAME", "target/release/netsecgame")
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
SECS = sys.argv[2] if len(sys.argv) > 2 else "3"

def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

def tcp(mode):
    args = [B, "--game_port", "9611", "--log_dir", os.path.join(os.environ.get("TMPDIR", "/tmp"), "nsg-web-cost-logs")]
    if mode != "off":
        args += ["--http", "127.0.0.1:8611"]
    srv = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.4)
    viewer = None
    if mode == "viewer":
        viewer = subprocess.Popen(["curl", "-s", "-N", "http://127.0.0.1:8611/api/games/1/events"], stdout=subprocess.DEVNULL)
        time.sleep(0.3)
    c0 = cpu_ticks(srv.pid)
    out = subprocess.run([B, "bench", "--agents", "1,16", "--seconds", SECS, "--addr", "127.0.0.1:9611"], capture_output=True, text=True).stdout
    c1 = cpu_ticks(srv.pid)
    if viewer:
        viewer.kill(); viewer.wait()
    srv.terminate(); srv.wait()
    rates = [float(x) for x in re.findall(r"([\d.]+) steps/s", out)]
    steps = sum(int(x) for x in re.findall(r"steps\s+(\d+)", out))
    p50 = [int(x) for x in re.findall(r"p50 (\d+) us", out)]
    cpu_us_per_step = (c1 - c0) * 1e6 / os.sysconf("SC_CLK_TCK") / max(steps, 1)
    return rates, p50, cpu_us_per_step

def inproc(mode):
    args = [B, "bench", "--in_process", "--games", "64", "--seconds", SECS]
    if mode != "off":
        args += ["--http", "127.0.0.1:8612"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    viewer = None
    if mode == "viewer":
        time.sleep(0.5)
        viewer = subprocess.Popen(["curl", "-s", "-N", "http://127.0.0.1:8612/api/games/1/events"], stdout=subprocess.DEVNULL)
    out = p.communicate()[0]
    if viewer:
        viewer.kill(); viewer.wait()
    m = re.search(r"aggregate_steps_per_s=(\d+)", out)
    return float(m.group(1)) if m else float("nan")

res = {m: {"t1": [], "t16": [], "p50_1": [], "cpu": [], "in": []} for m in ("off", "on", "viewer")}
for r in range(ROUNDS):
    for mode in ("off", "on", "viewer"):
        rates, p50, cpu = tcp(mode)
        res[mode]["t1"].append(rates[0]); res[mode]["t16"].append(rates[1]); res[mode]["p50_1"].append(p50[0]); res[mode]["cpu"].append(cpu)
        res[mode]["in"].append(inproc(mode))
        print(f"round {r} {mode}: tcp1 {rates[0]:.0f} tcp16 {rates[1]:.0f} p50 {p50[0]} us cpu/step {cpu:.2f} us inproc {res[mode]['in'][-1]:.0f}", flush=True)

def fmt(xs, d=0):
    return f"{statistics.median(xs):,.{d}f} ({min(xs):,.{d}f}–{max(xs):,.{d}f})"
print("\nmode | TCP 1 agent steps/s | TCP 16 agents steps/s | TCP 1 agent p50 us | server CPU us/step | in-process 64 games steps/s")
for mode in ("off", "on", "viewer"):
    x = res[mode]
    print(f"{mode} | {fmt(x['t1'])} | {fmt(x['t16'])} | {fmt(x['p50_1'])} | {fmt(x['cpu'], 2)} | {fmt(x['in'])}")
