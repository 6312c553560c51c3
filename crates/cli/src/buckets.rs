//! `billtrail buckets`: the local trail buckets, the folders under `DATA_DIR/buckets`.
//!
//! These commands work on the data dir directly, with or without a server running: a bucket
//! is a folder, and the server's S3 API and its delivery see a new one at once. (Over the API,
//! `aws s3 mb s3://NAME` does the same.) Buckets on S3-compatible endpoints are configured
//! (`[buckets.<name>]`), not created here.

use billtrail_objects::{LocalStore, ObjectError};
use clap::Subcommand;

use crate::DataDir;

#[derive(Subcommand)]
pub enum BucketsCommand {
    /// Create a local bucket: a folder under DATA_DIR/buckets, named by S3's rules.
    Create {
        /// 3 to 63 lowercase letters, digits, dots and hyphens.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List the local buckets.
    List {
        #[command(flatten)]
        data: DataDir,
    },
}

pub fn run(command: BucketsCommand) -> Result<(), String> {
    match command {
        BucketsCommand::Create { name, data } => {
            if billtrail_server::s3::RESERVED_BUCKET_NAMES.contains(&name.as_str()) {
                return Err(format!(
                    "{name:?} is not available: the server's own routes use it"
                ));
            }
            let store = LocalStore::new(data.data_dir.join("buckets"));
            match store.create_bucket_blocking(&name) {
                Ok(()) => {
                    let path = store.bucket_path(&name).map_err(|e| e.to_string())?;
                    println!("created bucket s3://{name} ({})", path.display());
                    Ok(())
                }
                Err(ObjectError::BucketExists(_)) => Err(format!("bucket {name} already exists")),
                Err(e) => Err(e.to_string()),
            }
        }
        BucketsCommand::List { data } => {
            let store = LocalStore::new(data.data_dir.join("buckets"));
            for name in store.list_buckets_blocking().map_err(|e| e.to_string())? {
                println!("{name}");
            }
            Ok(())
        }
    }
}
