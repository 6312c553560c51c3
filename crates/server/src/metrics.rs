//! `/metrics`: request counts and latencies, in the Prometheus text format.

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: &'static str,
    operation: &'static str,
    code: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: &'static str,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<CallLabels, Counter>,
    latency: Family<ServiceLabels, Histogram>,
}

/// The store's writer counters, read at each scrape.
struct StoreCollector(billtrail_store::Store);

impl std::fmt::Debug for StoreCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreCollector")
    }
}

impl Collector for StoreCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let stats = self.0.writer_stats();
        for (name, help, value) in [
            (
                "store_transactions",
                "Transactions committed by the store's group-commit writer",
                stats.transactions,
            ),
            (
                "store_jobs",
                "Jobs (calls' changes and records) run by the store's writer",
                stats.jobs,
            ),
        ] {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

impl Metrics {
    pub fn new(store: billtrail_store::Store) -> Self {
        let mut registry = Registry::with_prefix("billtrail");
        registry.register_collector(Box::new(StoreCollector(store)));
        let requests = Family::<CallLabels, Counter>::default();
        registry.register(
            "requests",
            "API requests by service, operation and result code",
            requests.clone(),
        );
        let latency = Family::<ServiceLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        registry.register(
            "request_duration_seconds",
            "API request latency, from body received to response ready",
            latency.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
        }
    }

    /// Counts one request. The labels are the server's own names (a known operation, or `""`),
    /// never what a request made up, so that requests cannot grow the label sets without bound.
    pub fn observe(
        &self,
        service: &'static str,
        operation: &'static str,
        code: &str,
        started: Instant,
    ) {
        let code = match code {
            "200" => Cow::Borrowed("200"),
            other => Cow::Owned(other.to_string()),
        };
        self.requests
            .get_or_create(&CallLabels {
                service,
                operation,
                code,
            })
            .inc();
        self.latency
            .get_or_create(&ServiceLabels { service })
            .observe(started.elapsed().as_secs_f64());
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            if let Err(e) = encode(&mut out, &registry) {
                tracing::error!(error = %e, "metrics encoding failed");
            }
        }
        out
    }
}
