//! Starts the real `portal-auth` binary on a free port against a fresh
//! store, and drives it over HTTP and its command line.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use portal_auth_adapters_postgres::testing::TestDatabase;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";

/// Runs each named case of the `cases` module once per store.
#[allow(unused_macros)]
macro_rules! on_every_store {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::cases::$case(super::support::Store::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::cases::$case(super::support::Store::Postgres).await;
                }
            )*
        }
    };
}

/// The stores the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

/// A running server with its own data folder and database.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    database: Option<TestDatabase>,
    pub http: reqwest::Client,
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portal-auth"))
}

impl Server {
    pub async fn start(store: Store) -> Self {
        Self::start_with(store, &[]).await
    }

    /// Starts with extra `PORTAL_AUTH__*` settings on top of the test ones.
    pub async fn start_with(store: Store, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let database = match store {
            Store::Postgres => Some(
                TestDatabase::create()
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL must be running (make pg-up): {e}")),
            ),
            Store::Sqlite => None,
        };
        let url = match &database {
            Some(db) => db.url().to_owned(),
            None => format!("sqlite://{}/store.db", dir.path().display()),
        };
        let mut env = vec![
            (
                "PORTAL_AUTH__DATA_DIR".to_owned(),
                dir.path().display().to_string(),
            ),
            ("PORTAL_AUTH__DATABASE__URL".to_owned(), url),
            (
                "PORTAL_AUTH__DATABASE__MAX_CONNECTIONS".to_owned(),
                "4".to_owned(),
            ),
            (
                "PORTAL_AUTH__HTTP__BIND".to_owned(),
                "127.0.0.1:0".to_owned(),
            ),
            ("PORTAL_AUTH__HTTP__WORKERS".to_owned(), "2".to_owned()),
            (
                "PORTAL_AUTH__HASH__ARGON2_MEMORY_KIB".to_owned(),
                "256".to_owned(),
            ),
            (
                "PORTAL_AUTH__HASH__ARGON2_ITERATIONS".to_owned(),
                "1".to_owned(),
            ),
            ("RUST_LOG".to_owned(), "info".to_owned()),
        ];
        for (key, value) in extra {
            env.push(((*key).to_owned(), (*value).to_owned()));
        }
        let mut server = Self {
            child: None,
            base: String::new(),
            dir,
            env,
            database,
            http: reqwest::Client::new(),
        };
        server.spawn().await;
        server
    }

    fn command(&self) -> Command {
        let mut command = Command::new(binary());
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.current_dir(self.dir.path());
        command
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Starts the process and waits for the line that names its address.
    async fn spawn(&mut self) {
        let log = std::fs::File::create(self.log_path()).unwrap_or_else(|e| panic!("{e}"));
        let child = self
            .command()
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning portal-auth: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            if let Some(address) = text.lines().find_map(|l| l.split("listening on ").nth(1)) {
                self.base = address.trim().to_owned();
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("portal-auth exited with {status} at start-up:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("portal-auth did not start:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops the process and starts it again on the same data.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs an admin command with the server's configuration.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning portal-auth {args:?}: {e}"));
        if let Some(mut pipe) = child.stdin.take() {
            let _ = pipe.write_all(stdin.unwrap_or_default().as_bytes());
        }
        child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs an admin command with `--json` and returns its object.
    pub fn cli_json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.cli(&all, stdin);
        assert!(
            output.status.success(),
            "portal-auth {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    pub fn tenant(&self, slug: &str) -> String {
        let tenant = self.cli_json(&["tenant", "create", "--name", slug, "--slug", slug], None);
        tenant["id"].as_str().unwrap_or_default().to_owned()
    }

    /// Creates a user who is a member of each tenant slug, creating those.
    pub fn user(&self, email: &str, slugs: &[&str]) -> String {
        let mut args = vec!["user", "create", "--email", email, "--password-stdin"];
        for slug in slugs {
            let _ = self.cli(&["tenant", "create", "--name", slug, "--slug", slug], None);
            args.extend(["--tenant", slug]);
        }
        let user = self.cli_json(&args, Some(&format!("{PASSWORD}\n")));
        user["id"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn get(&self, path: &str) -> Response {
        let url = format!("{}{path}", self.base);
        self.http
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn identify(&self, email: &str) -> Value {
        let response = self
            .post("/api/v1/auth/identify", &json!({ "email": email }))
            .await;
        expect_json(response, StatusCode::OK).await
    }

    pub async fn authenticate(
        &self,
        flow_token: &str,
        password: &str,
        tenant: Option<&str>,
    ) -> Response {
        let body = json!({ "flow_token": flow_token, "password": password, "tenant_id": tenant });
        self.post("/api/v1/auth/authenticate", &body).await
    }

    /// Identify, then authenticate with the right password; expects tokens.
    pub async fn sign_in(&self, email: &str) -> Value {
        let flow = self.identify(email).await;
        let token = flow["flow_token"].as_str().unwrap_or_default();
        let body = expect_json(
            self.authenticate(token, PASSWORD, None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(body["status"], "SUCCESS", "{body}");
        body
    }

    pub async fn refresh(&self, token: &str) -> Response {
        self.post("/api/v1/auth/refresh", &json!({ "refresh_token": token }))
            .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Asserts the status and returns the JSON body, showing it on failure.
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts an error answer: status and stable code.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> Value {
    let body = expect_json(response, status).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    body
}

/// The RFC 6238 code of a base32 secret at the current time.
pub fn totp_now(secret_b32: &str) -> String {
    totp_at(secret_b32, 0)
}

/// The code `offset` steps away from now.
pub fn totp_at(secret_b32: &str, offset: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let time = now.saturating_add_signed(offset * 30);
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, time)
}

/// A mail server on 127.0.0.1 that accepts everything and keeps the
/// messages, enough of SMTP for one client at a time.
pub struct FakeSmtp {
    pub port: u16,
    messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeSmtp {
    pub async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 fake ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                kept.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push(std::mem::take(body));
                                data = None;
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                body.push_str(&line);
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 fake\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        Self { port, messages }
    }

    /// The six-digit code of the newest message, waiting briefly for it.
    pub async fn last_code(&self) -> String {
        for _ in 0..100 {
            let messages = self.messages.lock().map(|m| m.clone()).unwrap_or_default();
            if let Some(message) = messages.last() {
                let code = message
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|run| run.len() == 6)
                    .map(str::to_owned);
                if let Some(code) = code {
                    return code;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no code arrived");
    }

    pub fn count(&self) -> usize {
        self.messages.lock().map(|m| m.len()).unwrap_or_default()
    }
}
