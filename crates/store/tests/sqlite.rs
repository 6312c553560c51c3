//! The conformance suite and the durability checks, against the embedded SQLite backend.

use billtrail_store::{conformance, Key, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_sqlite(dir.path()).expect("open");
    conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_state_and_records_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open_sqlite(dir.path()).expect("open");
        store
            .transact(|t| {
                t.put(&Key::new("111111111111", "k", "a"), &"kept")?;
                t.append(&conformance::sample_event(
                    "111111111111",
                    "us-east-1",
                    10,
                    1,
                ))
            })
            .await
            .expect("commit");
    }
    let store = Store::open_sqlite(dir.path()).expect("reopen");
    let v: Option<String> = store.get(&Key::new("111111111111", "k", "a")).expect("get");
    assert_eq!(v.as_deref(), Some("kept"));
    assert_eq!(store.read().last_seq().expect("last_seq"), 1);
}
