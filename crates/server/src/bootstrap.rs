//! First start: the installation's keys, the management account, its root user and root access
//! key, and the AWS CLI profile that points at this server.
//!
//! Files under the data dir (all mode 0600, folders 0700):
//! - `keys/master.key`: 32 random bytes; seals every secret the store keeps ([`Vault`]).
//! - `keys/token.key`: 32 random bytes; seals `LookupEvents` tokens.
//! - `aws/config` and `aws/credentials`: the `billtrail` profile. The credentials file is the one
//!   place the root secret key exists in clear, because the AWS CLI must read it.
//! - `aws/models/`: the service models of the billing services, for `AWS_DATA_PATH`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use billtrail_auth::credentials::{
    new_access_key_id, new_secret_access_key, AccessKeyRecord, KeyStatus, Vault, ACCESS_KEY_KIND,
};
use billtrail_auth::principal::Identity;
use billtrail_operations::billing_console::{AccountProfile, PROFILE_ID, PROFILE_KIND};
use billtrail_operations::iam::state::{UserKey, ROOT_OWNER, USER_KEY_KIND};
use billtrail_query::TokenKey;
use billtrail_store::{Key, Store};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::ServerError;

/// The AWS CLI profile name billtrail writes.
pub const PROFILE: &str = "billtrail";

/// State kind and id of the installation record (global account).
const INSTALLATION_KIND: &str = "installation";
const INSTALLATION_ID: &str = "management";

/// What the first start created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Installation {
    pub management_account_id: String,
    pub root_email: String,
    pub created: String,
}

/// The service models shipped to the AWS CLI, as `(relative path, contents)`.
pub const MODELS: &[(&str, &str)] = &[(
    "billingconsole/2018-05-30/service-2.json",
    include_str!("../../../models/billingconsole/2018-05-30/service-2.json"),
)];

/// The installation's secrets, loaded from (or created in) `data_dir/keys`.
pub struct Keys {
    pub vault: Vault,
    pub token_key: TokenKey,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |e| ServerError::Io(path.display().to_string(), e)
}

/// Writes `contents` to `path` with mode 0600, atomically (temp file, fsync, rename).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), ServerError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io(&tmp))?;
        f.write_all(contents).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), ServerError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

fn load_or_create_key(path: &Path) -> Result<[u8; 32], ServerError> {
    match fs::read(path) {
        Ok(bytes) => bytes
            .try_into()
            .map_err(|_| ServerError::Corrupt(format!("{} is not a 32-byte key", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::thread_rng().gen();
            write_private(path, &key)?;
            Ok(key)
        }
        Err(e) => Err(ServerError::Io(path.display().to_string(), e)),
    }
}

pub fn load_keys(data_dir: &Path) -> Result<Keys, ServerError> {
    let keys = data_dir.join("keys");
    let master = load_or_create_key(&keys.join("master.key"))?;
    let token = load_or_create_key(&keys.join("token.key"))?;
    Ok(Keys {
        vault: Vault::new(&master),
        token_key: TokenKey::new(token),
    })
}

pub fn aws_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("aws")
}

fn now_iso() -> String {
    billtrail_audit::format_time(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// A console password: 20 characters from four classes.
fn random_password() -> String {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-=?@^_",
    ];
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|i| {
            let set = SETS[i % 4];
            char::from(set[rng.gen_range(0..set.len())])
        })
        .collect()
}

/// What the first start tells its user, once.
pub struct Created {
    pub installation: Installation,
    pub access_key_id: String,
    /// Shown once on a terminal, never logged or stored in clear.
    pub root_password: String,
}

/// Creates the management account on the first start; returns `None` when it already exists.
/// `root_password` overrides the generated console password (for automation).
pub async fn bootstrap(
    store: &Store,
    keys: &Keys,
    data_dir: &Path,
    root_password: Option<String>,
) -> Result<(Installation, Option<Created>), ServerError> {
    if let Some(existing) =
        store.get::<Installation>(&Key::global(INSTALLATION_KIND, INSTALLATION_ID))?
    {
        return Ok((existing, None));
    }
    let account_id = billtrail_operations::organizations::new_account_id();
    let installation = Installation {
        root_email: format!("root+{account_id}@billtrail.invalid"),
        management_account_id: account_id.clone(),
        created: now_iso(),
    };
    let password = root_password.unwrap_or_else(random_password);
    let profile = AccountProfile {
        account_name: "management".into(),
        email: installation.root_email.clone(),
        password_hash: AccountProfile::hash_password(&password)
            .map_err(|_| ServerError::Corrupt("password hashing failed".into()))?,
        created: installation.created.clone(),
    };
    let access_key_id = new_access_key_id(false);
    let secret = new_secret_access_key();
    let key = AccessKeyRecord {
        access_key_id: access_key_id.clone(),
        account_id: account_id.clone(),
        identity: Identity::Root,
        sealed_secret: keys.vault.seal(secret.expose()),
        status: KeyStatus::Active,
        created: installation.created.clone(),
        session: None,
    };
    // The credentials file first: if we stop between the two steps, the next start finds no
    // installation and starts over, rather than finding an account whose key nobody has.
    write_credentials(data_dir, &access_key_id, secret.expose())?;
    let inst = installation.clone();
    store
        .transact(move |t| {
            billtrail_operations::organizations::create_organization(
                t,
                &account_id,
                &inst.root_email,
            )?;
            t.put(&Key::new(&account_id, PROFILE_KIND, PROFILE_ID), &profile)?;
            t.put(&Key::global(ACCESS_KEY_KIND, &key.access_key_id), &key)?;
            t.put(
                &Key::new(
                    &account_id,
                    USER_KEY_KIND,
                    &format!("{ROOT_OWNER}/{}", key.access_key_id),
                ),
                &UserKey {
                    access_key_id: key.access_key_id.clone(),
                    create_date: key.created.clone(),
                },
            )?;
            t.put(&Key::global(INSTALLATION_KIND, INSTALLATION_ID), &inst)
        })
        .await?;
    Ok((
        installation.clone(),
        Some(Created {
            installation,
            access_key_id,
            root_password: password,
        }),
    ))
}

fn write_credentials(
    data_dir: &Path,
    access_key_id: &str,
    secret: &str,
) -> Result<(), ServerError> {
    let text = format!(
        "[{PROFILE}]\naws_access_key_id = {access_key_id}\naws_secret_access_key = {secret}\n"
    );
    write_private(&aws_dir(data_dir).join("credentials"), text.as_bytes())
}

/// Writes the profile's config (endpoint, region, path-style S3) and the models, on every
/// start, so that they follow the address the server listens on.
pub fn write_cli_files(
    data_dir: &Path,
    public_url: &str,
    ca_bundle: Option<&Path>,
) -> Result<(), ServerError> {
    let dir = aws_dir(data_dir);
    let mut text =
        format!("[profile {PROFILE}]\nregion = us-east-1\nendpoint_url = {public_url}\n");
    if let Some(ca) = ca_bundle {
        text.push_str(&format!("ca_bundle = {}\n", ca.display()));
    }
    // botocore's nested S3 settings: path-style addressing (`/bucket/key`), which the S3 API
    // on this endpoint serves. Nested lines are indented and must come last.
    text.push_str("s3 =\n    addressing_style = path\n");
    write_private(&dir.join("config"), text.as_bytes())?;
    for (path, contents) in MODELS {
        write_private(&dir.join("models").join(path), contents.as_bytes())?;
    }
    Ok(())
}

/// The `export` lines of `billtrail env`.
pub fn env_exports(data_dir: &Path) -> Result<String, ServerError> {
    let dir = aws_dir(data_dir);
    let dir = dir.canonicalize().map_err(|e| {
        ServerError::Io(
            format!(
                "{} (has `billtrail serve` run with this data dir?)",
                dir.display()
            ),
            e,
        )
    })?;
    let config = dir.join("config");
    let endpoint = fs::read_to_string(&config)
        .map_err(io(&config))?
        .lines()
        .find_map(|l| l.strip_prefix("endpoint_url = ").map(str::to_string));
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    // Variables that would override the profile are cleared.
    let mut out = String::from(
        "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL\n",
    );
    out.push_str(&format!("export AWS_CONFIG_FILE={}\n", quote(&config)));
    out.push_str(&format!(
        "export AWS_SHARED_CREDENTIALS_FILE={}\n",
        quote(&dir.join("credentials"))
    ));
    out.push_str(&format!("export AWS_PROFILE={PROFILE}\n"));
    out.push_str(&format!(
        "export AWS_DATA_PATH={}\n",
        quote(&dir.join("models"))
    ));
    if let Some(url) = endpoint {
        out.push_str(&format!("export BILLTRAIL_ENDPOINT='{url}'\n"));
        // The same address serves S3's API (trail buckets), path-style.
        out.push_str(&format!("export AWS_ENDPOINT_URL_S3='{url}'\n"));
    }
    Ok(out)
}
