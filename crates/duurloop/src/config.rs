//! Typed configuration: defaults here, then a TOML file, then `DUURLOOP_*` environment variables,
//! then command-line flags. Secrets are wrapped in [`Secret`] and redacted in `Debug` and in
//! `duurloop config`.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
};

use serde::{Deserialize, Serialize};

/// A value that must never be printed or logged.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "\"<redacted>\""
        })
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "<redacted>" })
    }
}

/// Everything the application can be configured with. Field names are also the TOML keys and,
/// upper-cased with a `DUURLOOP_` prefix, the environment variables.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user@host/db`.
    /// Held as a secret because a PostgreSQL URL can carry a password.
    pub database_url: Secret,
    /// Address the web server listens on.
    pub listen: SocketAddr,
    /// The address people use to reach Duurloop, used in e-mailed links. `https://…` turns on
    /// Secure cookies. Not set, it is where the server listens (`http://127.0.0.1:8080`).
    pub base_url: String,
    /// Where e-mails are written as `.eml` files when no SMTP server is configured.
    pub outbox_dir: PathBuf,
    /// `smtp://user:pass@host:port` (STARTTLS when offered is not used), `smtps://…` (TLS), or empty.
    pub smtp_url: Secret,
    /// Sender address of all e-mail.
    pub mail_from: String,
    /// The key that encrypts second-factor secrets in the database (`secrets`): 32 random
    /// bytes as 64 hex characters or Base64. Empty: for SQLite the file `secret.key` beside
    /// the database file, made at first start; PostgreSQL refuses to start without one.
    pub secret_key: Secret,
    /// Minutes of inactivity after which a session ends.
    pub session_idle_minutes: i64,
    /// Hours after login after which a session ends regardless of activity.
    pub session_absolute_hours: i64,
    /// Seconds between outbox worker runs (it is also woken when mail is queued).
    pub worker_interval_seconds: u64,
    /// `json` for machine-readable logs, `pretty` for humans.
    pub log_format: String,
    /// Working days within which a therapist should act on a new referral; after that the
    /// therapist is reminded, and after as many days again the coordinator.
    pub referral_response_days: i64,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges). Empty:
    /// the header is ignored and the client IP is the TCP peer.
    pub trusted_proxies: Vec<IpRange>,
    /// A bearer token for `/metrics` (at least 32 characters). Set: `/metrics` answers only a
    /// request with `Authorization: Bearer <token>`. Empty: only a request made on this
    /// machine directly (loopback, not through a proxy). Anyone else gets 404.
    pub metrics_token: Secret,
    /// Years after a referral was closed that the worker erases its participant's personal
    /// data (`app::retention`). 20 by default and at least 20: the WGBO (art. 7:454 BW) keeps
    /// a care record 20 years after its last change, and a closed referral is not changed
    /// any more. Longer is allowed (a provider who must keep records longer); there is no way
    /// to turn it off, because keeping health data forever is what the AVG forbids.
    pub retention_years: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: Secret::new("sqlite://duurloop-data/duurloop.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: "http://127.0.0.1:8080".into(),
            outbox_dir: PathBuf::from("duurloop-data/outbox"),
            smtp_url: Secret::default(),
            mail_from: "Duurloop <noreply@duurloop.invalid>".into(),
            secret_key: Secret::default(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            worker_interval_seconds: 10,
            log_format: "pretty".into(),
            referral_response_days: 3,
            trusted_proxies: Vec::new(),
            metrics_token: Secret::default(),
            retention_years: 20,
        }
    }
}

/// Overrides given on the command line (each optional).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ConfigFlags {
    /// A TOML configuration file (also `DUURLOOP_CONFIG`).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Database URL (`sqlite://…` or `postgres://…`).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    #[arg(long, global = true)]
    pub listen: Option<SocketAddr>,
    /// Public base URL used in e-mailed links.
    #[arg(long, global = true)]
    pub base_url: Option<String>,
}

impl Config {
    /// Builds the effective configuration from defaults, file, environment and flags.
    pub fn load(flags: &ConfigFlags) -> anyhow::Result<Self> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(flags, &env)
    }

    /// As [`Config::load`], with the environment passed in (tests use this).
    pub fn load_from(flags: &ConfigFlags, env: &[(String, String)]) -> anyhow::Result<Self> {
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let file = flags
            .config
            .clone()
            .or_else(|| get("DUURLOOP_CONFIG").map(PathBuf::from));
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!("cannot read config file {}: {e}", path.display())
                })?;
                toml::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("config file {} is not valid: {e}", path.display())
                })?
            }
            None => Config::default(),
        };
        cfg.apply_env(&get)?;
        if let Some(v) = &flags.database_url {
            cfg.database_url = Secret::new(v.clone());
        }
        if let Some(v) = flags.listen {
            cfg.listen = v;
        }
        if let Some(v) = &flags.base_url {
            cfg.base_url = v.clone();
        }
        cfg.base_url_follows_listen();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Without a `base_url` of its own, a server told to listen elsewhere (`--listen
    /// 127.0.0.1:8099`) links to where it listens, not to the default port: otherwise every
    /// link it mails and prints (sign-in links, the demo's logins) points at nothing. An
    /// unspecified address (`0.0.0.0`, `::`) becomes this machine's loopback address.
    fn base_url_follows_listen(&mut self) {
        let default = Config::default();
        if self.base_url != default.base_url || self.listen == default.listen {
            return;
        }
        let mut at = self.listen;
        if at.ip().is_unspecified() {
            at.set_ip(match at {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        self.base_url = format!("http://{at}");
    }

    fn apply_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        // `*_FILE` variants read a secret from a file (Docker/Kubernetes secrets).
        let secret = |name: &str| -> anyhow::Result<Option<Secret>> {
            if let Some(path) = get(&format!("{name}_FILE")) {
                let v = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("cannot read {name}_FILE: {e}"))?;
                return Ok(Some(Secret::new(v.trim().to_string())));
            }
            Ok(get(name).map(Secret::new))
        };
        let num = |name: &str, v: String| -> anyhow::Result<i64> {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} must be a whole number"))
        };
        if let Some(v) = secret("DUURLOOP_DATABASE_URL")? {
            self.database_url = v;
        }
        if let Some(v) = secret("DUURLOOP_SMTP_URL")? {
            self.smtp_url = v;
        }
        if let Some(v) = secret("DUURLOOP_SECRET_KEY")? {
            self.secret_key = v;
        }
        if let Some(v) = secret("DUURLOOP_METRICS_TOKEN")? {
            self.metrics_token = v;
        }
        if let Some(v) = get("DUURLOOP_LISTEN") {
            self.listen = v
                .parse()
                .map_err(|_| anyhow::anyhow!("DUURLOOP_LISTEN must look like 127.0.0.1:8080"))?;
        }
        if let Some(v) = get("DUURLOOP_BASE_URL") {
            self.base_url = v;
        }
        if let Some(v) = get("DUURLOOP_OUTBOX_DIR") {
            self.outbox_dir = v.into();
        }
        if let Some(v) = get("DUURLOOP_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = get("DUURLOOP_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("DUURLOOP_SESSION_IDLE_MINUTES") {
            self.session_idle_minutes = num("DUURLOOP_SESSION_IDLE_MINUTES", v)?;
        }
        if let Some(v) = get("DUURLOOP_SESSION_ABSOLUTE_HOURS") {
            self.session_absolute_hours = num("DUURLOOP_SESSION_ABSOLUTE_HOURS", v)?;
        }
        if let Some(v) = get("DUURLOOP_REFERRAL_RESPONSE_DAYS") {
            self.referral_response_days = num("DUURLOOP_REFERRAL_RESPONSE_DAYS", v)?;
        }
        if let Some(v) = get("DUURLOOP_RETENTION_YEARS") {
            self.retention_years = num("DUURLOOP_RETENTION_YEARS", v)?;
        }
        if let Some(v) = get("DUURLOOP_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse()
                        .map_err(|e| anyhow::anyhow!("DUURLOOP_TRUSTED_PROXIES: {e}"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(v) = get("DUURLOOP_WORKER_INTERVAL_SECONDS") {
            self.worker_interval_seconds =
                num("DUURLOOP_WORKER_INTERVAL_SECONDS", v)?.max(1) as u64;
        }
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        crate::db::Backend::from_url(self.database_url.expose())?;
        if !self.secret_key.is_empty() {
            crate::secrets::SecretKey::parse(self.secret_key.expose())?;
        }
        if !self.metrics_token.is_empty() && self.metrics_token.expose().chars().count() < 32 {
            anyhow::bail!(
                "metrics_token must have at least 32 characters (e.g. `openssl rand -hex 32`)"
            );
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            anyhow::bail!("base_url must start with http:// or https://");
        }
        if self.session_idle_minutes < 1 || self.session_absolute_hours < 1 {
            anyhow::bail!("session timeouts must be at least 1");
        }
        if !(1..=30).contains(&self.referral_response_days) {
            anyhow::bail!("referral_response_days must be between 1 and 30");
        }
        if !(20..=100).contains(&self.retention_years) {
            anyhow::bail!("retention_years must be between 20 (the WGBO's minimum) and 100");
        }
        if !matches!(self.log_format.as_str(), "json" | "pretty") {
            anyhow::bail!("log_format must be json or pretty");
        }
        Ok(())
    }

    /// Whether Duurloop is reached over HTTPS (the base URL says so).
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// Cookies get the Secure flag when Duurloop is reached over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.is_https()
    }

    /// What in this configuration sends data unprotected over a network (ASVS 1.9.1, 9.2.1,
    /// 9.2.2), as warnings the server logs at start: a PostgreSQL server elsewhere whose
    /// certificate is not checked (`sslmode` other than `verify-full` or `verify-ca`: the
    /// default `prefer` encrypts only when offered and checks nothing), mail to an SMTP
    /// server elsewhere without TLS (`smtp://` without `tls=required`), and a `base_url`
    /// elsewhere over plain HTTP (cookies without `Secure`, no HSTS). Connections to this
    /// machine are not named: they do not cross a network. Nothing here stops the start; an
    /// installation may have its reasons (a private network), but it should know.
    pub fn transport_warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if let Ok(url) = url::Url::parse(self.database_url.expose())
            && matches!(url.scheme(), "postgres" | "postgresql")
            && !is_local_postgres(&url)
            && !url
                .query_pairs()
                .any(|(k, v)| k == "sslmode" && matches!(v.as_ref(), "verify-full" | "verify-ca"))
        {
            warnings.push(
                "the PostgreSQL server's certificate is not checked: add \
                 sslmode=verify-full to database_url (and sslrootcert= for a private CA)",
            );
        }
        if let Ok(url) = url::Url::parse(self.smtp_url.expose())
            && url.scheme() == "smtp"
            && !is_local(&url)
            && !url
                .query_pairs()
                .any(|(k, v)| k == "tls" && v == "required")
        {
            warnings.push(
                "mail goes to the SMTP server without TLS: use smtps:// or add \
                 ?tls=required to smtp_url",
            );
        }
        if let Ok(url) = url::Url::parse(&self.base_url)
            && url.scheme() == "http"
            && !is_local(&url)
        {
            warnings.push(
                "base_url is plain http:// on another host: cookies go without Secure and no \
                 HSTS is sent; put Duurloop behind HTTPS and give base_url as https://",
            );
        }
        warnings
    }

    /// The configuration as TOML with secrets redacted, for `duurloop config`.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot show config: {e}"))
    }
}

/// An IP address or a CIDR range of them (`10.0.0.0/8`, `::1/128`; a bare address is the
/// range of one). Parsed once at load; written back as text in `duurloop config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpRange {
    /// The first address of the range (host bits cleared).
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `ip` lies in the range. An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`,
    /// as a dual-stack listener reports IPv4 peers) counts as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u32::from(ip).into(), self.prefix, 32) == u32::from(net).into()
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(ip), self.prefix, 128) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// `bits` with all but the first `prefix` of its `width` bits cleared.
fn mask(bits: u128, prefix: u8, width: u8) -> u128 {
    let host_bits = u32::from(width - prefix);
    bits.checked_shr(host_bits)
        .and_then(|b| b.checked_shl(host_bits))
        .unwrap_or(0)
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("{s:?} is not an IP address or CIDR range (like 10.0.0.0/8 or ::1/128)");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(bad)?,
            Some(_) => return Err(bad()),
        };
        let network = match addr {
            IpAddr::V4(a) => IpAddr::V4((mask(u32::from(a).into(), prefix, 32) as u32).into()),
            IpAddr::V6(a) => IpAddr::V6(mask(u128::from(a), prefix, 128).into()),
        };
        Ok(IpRange { network, prefix })
    }
}

impl TryFrom<String> for IpRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<IpRange> for String {
    fn from(r: IpRange) -> String {
        r.to_string()
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Whether a PostgreSQL URL points at this machine: its host, or a `host` parameter, which
/// libpq lets override it (a path there is a local socket).
fn is_local_postgres(url: &url::Url) -> bool {
    match url.query_pairs().find(|(k, _)| k == "host") {
        Some((_, h)) if h.starts_with('/') => true,
        Some((_, h)) => url::Url::parse(&format!("postgres://{h}/")).is_ok_and(|u| is_local(&u)),
        None => is_local(url),
    }
}

/// Whether a URL points at this machine (or, with no host, a local socket).
fn is_local(url: &url::Url) -> bool {
    match url.host() {
        None => true,
        // Outside http(s) the host stays text, an IP address included.
        Some(url::Host::Domain(d)) => {
            d.is_empty()
                || d.eq_ignore_ascii_case("localhost")
                || d.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprotected_connections_to_other_machines_are_named_and_local_ones_are_not() {
        let cfg = |db: &str, smtp: &str, base: &str| Config {
            database_url: Secret::new(db),
            smtp_url: Secret::new(smtp),
            base_url: base.into(),
            ..Config::default()
        };
        for quiet in [
            cfg("sqlite://duurloop.db", "", "http://localhost:8080"),
            cfg(
                "postgres://postgres@127.0.0.1:5432/test",
                "smtp://localhost:25",
                "http://[::1]:8080",
            ),
            cfg(
                "postgres:///duurloop?host=/var/run/postgresql",
                "smtps://mail.example",
                "https://duurloop.example",
            ),
            cfg(
                "postgres://u@db.example/d?sslmode=verify-full",
                "smtp://mail.example:587?tls=required",
                "https://duurloop.example",
            ),
            cfg(
                "postgresql://u@db.example/d?sslmode=verify-ca&sslrootcert=/etc/ca.pem",
                "",
                "https://duurloop.example",
            ),
        ] {
            assert_eq!(
                quiet.transport_warnings(),
                Vec::<&str>::new(),
                "{}",
                quiet.database_url.expose()
            );
        }
        let loud = cfg(
            "postgres://u@db.example/d?sslmode=require",
            "smtp://mail.example:587",
            "http://duurloop.example",
        )
        .transport_warnings();
        assert_eq!(loud.len(), 3, "{loud:?}");
        assert!(loud[0].contains("sslmode=verify-full"));
        assert!(loud[1].contains("without TLS"));
        assert!(loud[2].contains("base_url"));
        let by_parameter =
            cfg("postgres:///d?host=db.example", "", "http://localhost").transport_warnings();
        assert_eq!(by_parameter.len(), 1, "a host given as a parameter counts");
    }

    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        let env = vec![
            (
                "DUURLOOP_DATABASE_URL".to_string(),
                "postgres://u:geheim@h/db".to_string(),
            ),
            (
                "DUURLOOP_BASE_URL".to_string(),
                "https://duurloop.example".to_string(),
            ),
        ];
        let flags = ConfigFlags {
            base_url: Some("https://regio.example".into()),
            ..Default::default()
        };
        let cfg = Config::load_from(&flags, &env).expect("valid");
        assert_eq!(cfg.database_url.expose(), "postgres://u:geheim@h/db");
        assert_eq!(cfg.base_url, "https://regio.example");
        assert!(cfg.secure_cookies());
        let shown = cfg.to_redacted_toml();
        assert!(!shown.contains("geheim"), "{shown}");
        assert!(!format!("{cfg:?}").contains("geheim"));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn range(s: &str) -> IpRange {
        s.parse().expect("range")
    }

    #[test]
    fn cidr_ranges_match_ipv4_and_ipv6_addresses() {
        let private = range("10.0.0.0/8");
        assert!(private.contains(ip("10.0.0.1")));
        assert!(private.contains(ip("10.255.255.255")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(
            private.contains(ip("::ffff:10.1.2.3")),
            "IPv4 mapped into IPv6"
        );
        assert!(!private.contains(ip("::1")));
        let one = range("192.0.2.7");
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        assert!(range("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(!range("0.0.0.0/0").contains(ip("2001:db8::1")));
        let loopback = range("::1/128");
        assert!(loopback.contains(ip("::1")));
        assert!(!loopback.contains(ip("::2")));
        assert!(!loopback.contains(ip("127.0.0.1")));
        let docs = range("2001:db8::/32");
        assert!(docs.contains(ip("2001:db8:ffff::1")));
        assert!(!docs.contains(ip("2001:db9::1")));
        assert_eq!(
            range("10.1.2.3/8").to_string(),
            "10.0.0.0/8",
            "host bits cleared"
        );
        assert_eq!(range("::1").to_string(), "::1/128");
    }

    #[test]
    fn trusted_proxies_come_from_file_or_environment_and_a_bad_entry_is_refused_by_name() {
        let env = |v: &str| vec![("DUURLOOP_TRUSTED_PROXIES".to_string(), v.to_string())];
        let cfg = Config::load_from(&ConfigFlags::default(), &env(" 10.0.0.0/8, ::1/128 ,"))
            .expect("valid");
        assert_eq!(cfg.trusted_proxies, [range("10.0.0.0/8"), range("::1/128")]);
        assert!(
            cfg.to_redacted_toml()
                .contains(r#"trusted_proxies = ["10.0.0.0/8", "::1/128"]"#)
        );
        for bad in [
            "10.0.0.0/33",
            "proxy.example",
            "10.0.0.0/",
            "10.0.0/8",
            "::1/129",
            "10.0.0.0/+8",
        ] {
            let err = Config::load_from(&ConfigFlags::default(), &env(&format!("127.0.0.1,{bad}")))
                .expect_err(bad)
                .to_string();
            assert!(
                err.contains("DUURLOOP_TRUSTED_PROXIES") && err.contains(bad),
                "{err}"
            );
        }
        let file: Config =
            toml::from_str(r#"trusted_proxies = ["127.0.0.1", "172.16.0.0/12"]"#).expect("valid");
        assert_eq!(
            file.trusted_proxies,
            [range("127.0.0.1/32"), range("172.16.0.0/12")]
        );
        let err = toml::from_str::<Config>(r#"trusted_proxies = ["127.0.0.1", "10.0.0.0/40"]"#)
            .expect_err("bad prefix")
            .to_string();
        assert!(err.contains("10.0.0.0/40"), "{err}");
        assert!(Config::default().trusted_proxies.is_empty());
    }

    #[test]
    fn the_secret_key_comes_from_a_file_is_checked_and_never_shown() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("secret.key");
        let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        std::fs::write(&file, format!("{key}\n")).expect("write");
        let env = vec![(
            "DUURLOOP_SECRET_KEY_FILE".to_string(),
            file.display().to_string(),
        )];
        let cfg = Config::load_from(&ConfigFlags::default(), &env).expect("valid");
        assert_eq!(cfg.secret_key.expose(), key);
        assert!(!cfg.to_redacted_toml().contains("0011223344"));
        assert!(!format!("{cfg:?}").contains("0011223344"));
        let env = vec![("DUURLOOP_SECRET_KEY".to_string(), "geheim".to_string())];
        let err = Config::load_from(&ConfigFlags::default(), &env)
            .expect_err("too short")
            .to_string();
        assert!(
            err.contains("secret_key") && !err.contains("geheim"),
            "{err}"
        );
    }

    #[test]
    fn the_metrics_token_comes_from_a_file_or_the_environment_is_long_and_never_shown() {
        let token = "0123456789abcdef0123456789abcdef";
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("metrics.token");
        std::fs::write(&file, format!("{token}\n")).expect("write");
        for env in [
            vec![("DUURLOOP_METRICS_TOKEN".to_string(), token.to_string())],
            vec![(
                "DUURLOOP_METRICS_TOKEN_FILE".to_string(),
                file.display().to_string(),
            )],
        ] {
            let cfg = Config::load_from(&ConfigFlags::default(), &env).expect("valid");
            assert_eq!(cfg.metrics_token.expose(), token);
            assert!(!cfg.to_redacted_toml().contains("0123456789"));
            assert!(!format!("{cfg:?}").contains("0123456789"));
        }
        let env = vec![("DUURLOOP_METRICS_TOKEN".to_string(), "kort".to_string())];
        let err = Config::load_from(&ConfigFlags::default(), &env)
            .expect_err("too short")
            .to_string();
        assert!(
            err.contains("metrics_token") && !err.contains("kort"),
            "{err}"
        );
        assert!(Config::default().metrics_token.is_empty());
    }

    #[test]
    fn the_retention_period_is_twenty_years_or_more() {
        assert_eq!(Config::default().retention_years, 20);
        let env = |v: &str| vec![("DUURLOOP_RETENTION_YEARS".to_string(), v.to_string())];
        let cfg = Config::load_from(&ConfigFlags::default(), &env("25")).expect("valid");
        assert_eq!(cfg.retention_years, 25);
        for bad in ["19", "0", "101", "twintig"] {
            let err = Config::load_from(&ConfigFlags::default(), &env(bad))
                .expect_err(bad)
                .to_string();
            assert!(
                err.contains("RETENTION_YEARS") || err.contains("retention_years"),
                "{err}"
            );
        }
    }

    #[test]
    fn without_a_base_url_links_follow_the_listening_address() {
        let flags = |listen: &str, base: Option<&str>| ConfigFlags {
            listen: Some(listen.parse().expect("address")),
            base_url: base.map(str::to_string),
            ..ConfigFlags::default()
        };
        let load = |f: &ConfigFlags| Config::load_from(f, &[]).expect("config");
        assert_eq!(
            load(&flags("127.0.0.1:8099", None)).base_url,
            "http://127.0.0.1:8099"
        );
        assert_eq!(
            load(&flags("0.0.0.0:8099", None)).base_url,
            "http://127.0.0.1:8099"
        );
        assert_eq!(
            load(&flags("[::]:8099", None)).base_url,
            "http://[::1]:8099"
        );
        assert_eq!(
            load(&flags("127.0.0.1:8099", Some("https://regio.example"))).base_url,
            "https://regio.example",
            "a base_url given is kept"
        );
        assert_eq!(
            load(&ConfigFlags::default()).base_url,
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn a_mistyped_database_url_is_an_error() {
        let env = vec![(
            "DUURLOOP_DATABASE_URL".to_string(),
            "postgress://h/db".to_string(),
        )];
        assert!(Config::load_from(&ConfigFlags::default(), &env).is_err());
    }
}
