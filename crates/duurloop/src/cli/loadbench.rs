//! `duurloop bench`: the national-scale benchmark (SPEC §4, BENCHMARKS.md), in one run.
//!
//! For a small and a large country (`demo --scale national` data, 1,000 and 100,000
//! participants by default) it starts this very binary as a server on the generated SQLite
//! database and measures, against that same server:
//! - start time on the migrated database (process start until `/healthz` answers) and idle
//!   memory (resident set after start, nothing to do);
//! - throughput and latency (p50, p99) at 64 keep-alive connections, over `--rounds` rounds
//!   in which the routes take turns (pooled per route), of the trivial route
//!   `/healthz`, the participant page `/portal` and its API `/api/v1/portal` (each connection
//!   signed in as one of 256 participants in turn; every request is a real one: session look-up,
//!   plan, runs, sessions, audit entry);
//! - the cost growth of the participant requests from the small to the large country;
//! - the binary's size;
//! - with `--soak-minutes M`, a load test: M minutes of participant requests at 64
//!   connections, counting errors and sampling memory every 10 s.
//!
//! The load comes from this process over loopback with a minimal HTTP/1.1 client (no extra
//! dependency): on the same two cores as the server, so the figures are ratios of one run,
//! not absolute capacity. Goals: participant routes at least 40% of the trivial route's
//! throughput and p99 at most 25 ms on SQLite at the large size; growth at most 1.5×.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    process::{Child, Command},
};

use crate::db::Db;

#[derive(clap::Args)]
pub struct LoadArgs {
    /// Participants of the large country.
    #[arg(long, default_value_t = 100_000)]
    participants: u64,
    /// Participants of the small country (cost growth is measured from it).
    #[arg(long, default_value_t = 1_000)]
    small: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of measurement per route and round (after a warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rounds: the routes take turns this many times and each route's figures pool them.
    #[arg(long, default_value_t = 3)]
    rounds: u64,
    /// Minutes of the load test on the large country (0: none).
    #[arg(long, default_value_t = 0)]
    soak_minutes: u64,
    /// Keep the generated databases in this folder (and reuse them when they are there; every
    /// measurement works on a fresh copy, so runs do not grow them).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Participants signed in per country: requests rotate over them.
const SIGNED_IN: usize = 256;

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("duurloop-loadbench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    let binary_mb = std::fs::metadata(&exe)?.len() as f64 / 1_048_576.0;
    let mut sizes = Vec::new();
    let run_path = dir.join("run.db");
    for participants in [args.small, args.participants] {
        let db_path = dir.join(format!("national-{participants}.db"));
        let tokens = prepare(&db_path, &run_path, participants).await?;
        let m = measure(&exe, &run_path, &tokens, &args).await?;
        sizes.push((participants, m));
    }
    let (small, large) = (&sizes[0].1, &sizes[1].1);
    let soak = if args.soak_minutes > 0 {
        let db_path = dir.join(format!("national-{}.db", args.participants));
        let tokens = prepare(&db_path, &run_path, args.participants).await?;
        Some(soak(&exe, &run_path, &tokens, &args).await?)
    } else {
        None
    };
    let growth = |route: &str| {
        let s = small.route(route);
        let l = large.route(route);
        s.per_second / l.per_second.max(1e-9)
    };
    let report = serde_json::json!({
        "connections": args.connections,
        "seconds_per_route": args.seconds,
        "rounds": args.rounds,
        "binary_mb": binary_mb,
        "sizes": sizes.iter().map(|(n, m)| serde_json::json!({"participants": n, "measured": m})).collect::<Vec<_>>(),
        "page_share_of_trivial": large.route("page").per_second / large.route("trivial").per_second,
        "api_share_of_trivial": large.route("api").per_second / large.route("trivial").per_second,
        "page_growth": growth("page"),
        "api_growth": growth("api"),
        "soak": soak,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", run_path.display()));
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Generates the country at `pristine` (unless it is there), copies it to `run` and signs in
/// [`SIGNED_IN`] of its active participants there with portal sessions; returns their tokens.
///
/// Every measurement works on a fresh copy: a run adds hundreds of thousands of audit entries
/// and sessions, and measuring on a database grown by earlier runs (the small country went
/// from 38 to 242 MB over four) made runs incomparable.
async fn prepare(pristine: &Path, run: &Path, participants: u64) -> anyhow::Result<Vec<String>> {
    let now = jiff::Timestamp::now().as_millisecond();
    {
        // Opened (and migrated) even when it is there; closing the last connection
        // checkpoints the WAL into the file, so copying the file alone copies everything.
        let fresh = !pristine.exists();
        let db = Db::connect(&format!("sqlite://{}", pristine.display())).await?;
        if fresh {
            // The key file beside `pristine` seals the demo second factors; the server under
            // test on the copy beside it reads the same file.
            let key = crate::secrets::SecretKey::beside(pristine)?;
            super::demo::seed(&db, &key, now).await?;
            super::national::generate(
                &db,
                super::national::Shape::for_participants(participants),
                now,
            )
            .await?;
        }
        db.pool.close().await;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", run.display()));
    }
    std::fs::copy(pristine, run).context("copy the generated database")?;
    let db = Db::connect(&format!("sqlite://{}", run.display())).await?;
    let mut c = db.conn().await?;
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT t.id FROM trajectories t JOIN referrals r ON r.id = t.referral_id \
         WHERE t.status = 'active' AND r.client_email LIKE '%@national.invalid' \
         ORDER BY t.id LIMIT 256",
    )
    .fetch_all(&mut *c)
    .await?;
    anyhow::ensure!(!ids.is_empty(), "no active participants to sign in");
    let mut tokens = Vec::new();
    for (i, (id,)) in ids.iter().cycle().take(SIGNED_IN).enumerate() {
        let token = format!(
            "bench-{}-{i}-{}",
            std::process::id(),
            crate::store::new_id()
        );
        crate::store::portal::create_session(&mut c, &token, id, now).await?;
        tokens.push(token);
    }
    drop(c);
    db.pool.close().await;
    Ok(tokens)
}

/// A server child process on the database, with its address.
struct Server {
    child: Child,
    addr: String,
    started_ms: f64,
}

impl Server {
    async fn start(exe: &Path, db: &Path) -> anyhow::Result<Self> {
        let began = Instant::now();
        let mut child = Command::new(exe)
            .args([
                "--database-url",
                &format!("sqlite://{}", db.display()),
                "--listen",
                "127.0.0.1:0",
                "serve",
            ])
            .env("DUURLOOP_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("start the server")?;
        let stdout = child.stdout.take().context("server output")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("http://").nth(1) {
                    return Ok::<_, anyhow::Error>(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
            }
            anyhow::bail!("the server ended before it listened")
        })
        .await
        .context("the server did not start within 60 s")??;
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut conn = Conn::open(&addr).await?;
        for _ in 0..600 {
            if conn.get("/healthz", &[]).await.is_ok_and(|s| s == 200) {
                return Ok(Server {
                    child,
                    addr,
                    started_ms: began.elapsed().as_secs_f64() * 1000.0,
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            conn = Conn::open(&addr).await?;
        }
        anyhow::bail!("the server did not answer /healthz")
    }

    fn rss_mb(&self) -> Option<f64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }

    /// Where `/proc` keeps the server's CPU time (user and system, all threads).
    fn stat_path(&self) -> Option<String> {
        Some(format!("/proc/{}/stat", self.child.id()?))
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// One keep-alive HTTP/1.1 connection: enough of the protocol for this server's answers
/// (`Content-Length` bodies).
struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    async fn open(addr: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(stream),
        })
    }

    /// Sends a GET with these extra headers and reads the whole answer; returns the status.
    async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<u16> {
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAccept-Language: nl\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("status line")?;
        let mut length = None;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                anyhow::bail!("connection closed");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.context("a Content-Length")?];
        self.stream.read_exact(&mut body).await?;
        Ok(status)
    }
}

/// CPU time (user + system) of the process whose `/proc/…/stat` this is, in ms. Fields 14
/// and 15 after the command name (which is in parentheses and may hold spaces), in clock
/// ticks of 10 ms (`CLK_TCK` is 100 on Linux).
fn cpu_ms(stat_path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    let mut f = stat.rsplit_once(')')?.1.split_whitespace();
    let utime: f64 = f.nth(11)?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

/// What one route did under load.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RouteFigures {
    pub route: String,
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The server's CPU time per request, in µs. Unlike requests per second it hardly depends
    /// on how busy the machine is otherwise, so it is the steadier figure to compare two
    /// builds by on a shared VM.
    pub server_cpu_us: Option<f64>,
    /// The load generator's (this process's) CPU time per request, in µs: it shares the
    /// machine with the server, so it takes from the throughput of every route.
    pub client_cpu_us: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    pub start_ms: f64,
    pub idle_rss_mb: Option<f64>,
    pub routes: Vec<RouteFigures>,
}

impl Measured {
    fn route(&self, name: &str) -> &RouteFigures {
        self.routes
            .iter()
            .find(|r| r.route == name)
            .unwrap_or(&self.routes[0])
    }
}

/// The request of a route for participant `i`.
fn request(
    route: &str,
    tokens: &[String],
    i: usize,
) -> (&'static str, Vec<(&'static str, String)>) {
    let token = &tokens[i % tokens.len()];
    match route {
        "page" => ("/portal", vec![("Cookie", format!("dl_portal={token}"))]),
        "api" => (
            "/api/v1/portal",
            vec![("Authorization", format!("Bearer {token}"))],
        ),
        _ => ("/healthz", Vec::new()),
    }
}

/// `connections` tasks requesting `route` for `seconds` (after a warm-up); latencies in µs.
async fn load(
    addr: &str,
    tokens: &Arc<Vec<String>>,
    routes: &[&'static str],
    connections: usize,
    warmup: Duration,
    span: Duration,
    server_stat: Option<String>,
) -> anyhow::Result<(Vec<u32>, u64, u64, Cpu)> {
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for n in 0..connections {
        let (addr, tokens, routes) = (addr.to_string(), tokens.clone(), routes.to_vec());
        let (stop, measuring, errors) = (stop.clone(), measuring.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut conn = Conn::open(&addr).await?;
            let mut i = n;
            while !stop.load(Ordering::Relaxed) {
                let route = routes[i % routes.len()];
                let (path, headers) = request(route, &tokens, i);
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let began = Instant::now();
                let ok = match conn.get(path, &headers).await {
                    Ok(200) => true,
                    Ok(_) => false,
                    Err(_) => {
                        conn = Conn::open(&addr).await?;
                        false
                    }
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        latencies
                            .push(began.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += connections;
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    tokio::time::sleep(warmup).await;
    measuring.store(true, Ordering::Relaxed);
    let began = Instant::now();
    let server_cpu = || server_stat.as_deref().and_then(cpu_ms);
    let (server_before, client_before) = (server_cpu(), cpu_ms("/proc/self/stat"));
    tokio::time::sleep(span).await;
    measuring.store(false, Ordering::Relaxed);
    let cpu = Cpu {
        server_ms: server_cpu().zip(server_before).map(|(a, b)| a - b),
        client_ms: cpu_ms("/proc/self/stat")
            .zip(client_before)
            .map(|(a, b)| a - b),
    };
    let elapsed_ms = began.elapsed().as_millis() as u64;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, errors.load(Ordering::Relaxed), elapsed_ms, cpu))
}

/// CPU time spent during a measuring window, in ms (`None` without `/proc`).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    server_ms: Option<f64>,
    client_ms: Option<f64>,
}

impl Cpu {
    fn add(&mut self, other: Cpu) {
        let sum = |a: Option<f64>, b: Option<f64>| Some(a.unwrap_or(0.0) + b?);
        self.server_ms = sum(self.server_ms, other.server_ms);
        self.client_ms = sum(self.client_ms, other.client_ms);
    }
}

fn figures(
    route: &str,
    mut latencies: Vec<u32>,
    errors: u64,
    elapsed_ms: u64,
    cpu: Cpu,
) -> RouteFigures {
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    RouteFigures {
        route: route.to_string(),
        requests: latencies.len() as u64,
        errors,
        per_second: latencies.len() as f64 * 1000.0 / elapsed_ms.max(1) as f64,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        server_cpu_us: cpu
            .server_ms
            .map(|ms| ms * 1000.0 / (latencies.len() as u64 + errors).max(1) as f64),
        client_cpu_us: cpu
            .client_ms
            .map(|ms| ms * 1000.0 / (latencies.len() as u64 + errors).max(1) as f64),
    }
}

async fn measure(
    exe: &Path,
    db: &Path,
    tokens: &[String],
    args: &LoadArgs,
) -> anyhow::Result<Measured> {
    // Start time: the median of three starts on the migrated database.
    let mut starts = Vec::new();
    for _ in 0..2 {
        let s = Server::start(exe, db).await?;
        starts.push(s.started_ms);
        s.stop().await;
    }
    let server = Server::start(exe, db).await?;
    starts.push(server.started_ms);
    starts.sort_by(f64::total_cmp);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss_mb = server.rss_mb();
    let tokens = Arc::new(tokens.to_vec());
    // The routes take turns, `rounds` times, and each route's figures pool its rounds: on a
    // shared VM one 10-second window can be 20% off the next, and interleaving spreads such a
    // spell over all three routes instead of landing it on one of them.
    const ROUTES: [&str; 3] = ["trivial", "page", "api"];
    let mut pooled: Vec<(Vec<u32>, u64, u64, Cpu)> =
        vec![(Vec::new(), 0, 0, Cpu::default()); ROUTES.len()];
    for round in 0..args.rounds.max(1) {
        for (route, pool) in ROUTES.iter().zip(pooled.iter_mut()) {
            let (lat, errors, ms, cpu) = load(
                &server.addr,
                &tokens,
                &[route],
                args.connections,
                Duration::from_secs(if round == 0 { 2 } else { 1 }),
                Duration::from_secs(args.seconds),
                server.stat_path(),
            )
            .await?;
            eprintln!("round {round} {route}: {} requests in {ms} ms", lat.len());
            pool.0.extend(lat);
            pool.1 += errors;
            pool.2 += ms;
            pool.3.add(cpu);
        }
    }
    let mut routes = Vec::new();
    for (route, (lat, errors, ms, cpu)) in ROUTES.iter().zip(pooled) {
        let f = figures(route, lat, errors, ms, cpu);
        eprintln!("{:?}", f);
        routes.push(f);
    }
    server.stop().await;
    Ok(Measured {
        start_ms: starts[1],
        idle_rss_mb,
        routes,
    })
}

/// The load test: participant page and API for `soak_minutes`, memory every 10 s.
async fn soak(
    exe: &Path,
    db: &Path,
    tokens: &[String],
    args: &LoadArgs,
) -> anyhow::Result<serde_json::Value> {
    let server = Server::start(exe, db).await?;
    let tokens = Arc::new(tokens.to_vec());
    let addr = server.addr.clone();
    let stat = server.stat_path();
    let connections = args.connections;
    let minutes = args.soak_minutes;
    let load = tokio::spawn(async move {
        load(
            &addr,
            &tokens,
            &["page", "api"],
            connections,
            Duration::from_secs(5),
            Duration::from_secs(minutes * 60),
            stat,
        )
        .await
    });
    let mut rss = Vec::new();
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(minutes * 60 + 5) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        if let Some(mb) = server.rss_mb() {
            rss.push(mb);
        }
    }
    let (lat, errors, ms, cpu) = load.await??;
    let f = figures("page+api", lat, errors, ms, cpu);
    server.stop().await;
    // Memory after the first minute (caches warm) against the end.
    let warm = rss.get(6).or(rss.first()).copied().unwrap_or(0.0);
    let end = rss.last().copied().unwrap_or(0.0);
    Ok(serde_json::json!({
        "minutes": minutes,
        "figures": f,
        "rss_mb_samples": rss,
        "rss_mb_after_1_min": warm,
        "rss_mb_at_end": end,
    }))
}
