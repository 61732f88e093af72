//! A small WebDriver client for the real-browser tests: Debian's `chromium` driven through
//! `chromedriver` (W3C WebDriver over HTTP/1.1 on loopback), with nothing but std and
//! `serde_json`. It does what the tests need: open a page, run a script, wait for a
//! condition, upload a file, take a screenshot.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether this machine has the browser; in CI (`CI` set) a missing browser is a failure, not
/// a reason to skip.
pub fn available() -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !there && std::env::var_os("CI").is_some() {
        panic!("Chromium is missing ({CHROMIUM}, {CHROMEDRIVER}): .ci/run installs the packages chromium and chromium-driver");
    }
    if !there {
        eprintln!("skipping: no {CHROMIUM} / {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
    }
    there
}

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    profile: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 exchange; returns (status, body). The body is read by its length (or its
/// chunks): chromedriver may keep the connection open whatever the request says.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let closed = |raw: &Vec<u8>| -> Option<(u16, Vec<u8>)> {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let rest = &raw[split + 4..];
        if head.contains("transfer-encoding: chunked") {
            return rest.windows(5).any(|w| w == b"0\r\n\r\n").then(|| (status, dechunk(rest)));
        }
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0);
        (rest.len() >= length).then(|| (status, rest[..length].to_vec()))
    };
    loop {
        if let Some(done) = closed(&raw) {
            return Ok(done);
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return closed(&raw).ok_or_else(|| std::io::Error::other("the answer broke off"));
        }
        raw.extend_from_slice(&buf[..n]);
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..end]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[(end + 4 + size).min(b.len())..];
    }
    out
}

/// Standard base64 (screenshots arrive so).
fn base64_decode(text: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session with the flags this machine needs.
    pub fn start(width: u32, height: u32) -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http(port, "GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let profile = std::env::temp_dir().join(format!(
            "nsg-chromium-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={width},{height}"),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let mut b = Browser { driver, port, session: String::new(), profile };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        b
    }

    /// A WebDriver command; returns its `value`, panics on an error answer.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, bytes) = http(self.port, method, path, body.as_ref()).expect("chromedriver answers");
        let v: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON from chromedriver: {}", String::from_utf8_lossy(&bytes)));
        assert!(status == 200, "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.at("/url"), Some(json!({"url": url})));
    }

    /// Runs `script` (a function body; `return` its answer) in the page.
    pub fn eval(&self, script: &str) -> Value {
        self.call("POST", &self.at("/execute/sync"), Some(json!({"script": script, "args": []})))
    }

    /// Waits until `script` returns something truthy (not null, false, 0, "" or []); returns it.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.eval(script);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(_) => true,
            };
            if truthy {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; last answer {v}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sets a file input's file (the WebDriver way: its path as keys).
    pub fn upload(&self, css: &str, file: &Path) {
        let el = self.call("POST", &self.at("/element"), Some(json!({"using": "css selector", "value": css})));
        let id =
            el.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("element id").to_string();
        let path = file.canonicalize().unwrap();
        self.call("POST", &self.at(&format!("/element/{id}/value")), Some(json!({"text": path.to_str().unwrap()})));
    }

    /// Resizes the window (the viewport is somewhat smaller).
    pub fn resize(&self, width: u32, height: u32) {
        self.call("POST", &self.at("/window/rect"), Some(json!({"width": width, "height": height})));
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self, to: &Path) {
        let v = self.call("GET", &self.at("/screenshot"), None);
        let png = base64_decode(v.as_str().expect("base64 text"));
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(to, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
