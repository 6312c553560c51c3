//! The pipeline every call goes through, whatever the operation.
//!
//! ```text
//! find op ─▶ validate input (model) ─▶ authorize ─▶ decode input ─▶ run handler ─▶ capture record ─▶ commit
//! ```
//!
//! A write runs inside the store's group-commit transaction: the handler's changes and the
//! record are written by the same job, and the handler's changes are rolled back (its savepoint)
//! if it fails, while its failure record is still written. One thread runs every write's
//! transaction, so all that can happen before it does, on the request's thread: the input is
//! decoded into the handler's type and the record is prepared but for its outcome
//! ([`Capture::prepare`]); the transaction runs the handler and finishes the record. A read runs
//! on a reader and then commits its record. Either way the answer is returned only after the
//! record is durable.

use std::sync::Arc;

use billtrail_audit::{
    aws_account_identity, CallInfo, Capture, Origin, Outcome, Prepared, Resource,
};
use billtrail_auth::principal::Principal;
use billtrail_protocol::ApiError;
use billtrail_store::NewEvent;
use serde_json::{Map, Value};

use crate::authorize::authorize;
use crate::context::ReadOnly;
use crate::{find, Context, Env, OpSpec, Protocol, Service};

/// A decoded, authenticated request.
#[derive(Debug)]
pub struct Request {
    pub service: Service,
    pub operation: String,
    /// The body as a JSON object, or why it could not be read.
    pub input: Result<Map<String, Value>, ApiError>,
    /// The region of the SigV4 credential scope.
    pub signed_region: String,
    pub request_id: String,
}

/// Everything needed to write the record of a call, whatever its outcome.
struct Audit {
    principal: Principal,
    origin: Origin,
    op: &'static OpSpec,
    region: String,
    request_id: String,
    params: Option<Value>,
}

impl Audit {
    /// The call's record, and when the call reached into another account, that account's copy.
    fn events(
        mut self,
        outcome: &Result<Value, ApiError>,
        resources: Vec<Resource>,
        other: Option<String>,
    ) -> Vec<NewEvent> {
        let Some(account) = other else {
            return vec![self.event(outcome, resources, None, None)];
        };
        let shared = Some(uuid::Uuid::new_v4().to_string());
        let params = self.params.clone();
        let first = self.event(outcome, resources.clone(), shared.clone(), None);
        self.params = params;
        vec![first, self.event(outcome, resources, shared, Some(account))]
    }

    /// The record of the call (its `requestParameters` are taken: one record per `Audit`, except
    /// through [`Audit::events`]).
    fn event(
        &mut self,
        outcome: &Result<Value, ApiError>,
        resources: Vec<Resource>,
        shared_event_id: Option<String>,
        recipient: Option<String>,
    ) -> NewEvent {
        let prepared = self.prepare(shared_event_id, recipient);
        self.finish(prepared, outcome, resources)
    }

    /// Everything of the record that the outcome does not decide (see [`Capture::prepare`]).
    /// Takes the `requestParameters`.
    fn prepare(&mut self, shared_event_id: Option<String>, recipient: Option<String>) -> Prepared {
        let call = CallInfo {
            event_source: self.op.service.event_source(),
            event_name: self.op.name,
            region: &self.region,
            read_only: self.op.read_only,
            request_id: &self.request_id,
            recipient_account_id: recipient.as_deref().unwrap_or(&self.principal.account_id),
        };
        let mut c = Capture::new(&self.principal, &self.origin, call, self.params.take());
        c.shared_event_id = shared_event_id;
        if recipient.is_some() {
            c.user_identity = Some(aws_account_identity(&self.principal));
        }
        c.prepare()
    }

    /// The record, from its prepared part and the call's outcome.
    fn finish(
        &self,
        prepared: Prepared,
        outcome: &Result<Value, ApiError>,
        resources: Vec<Resource>,
    ) -> NewEvent {
        let service = self.op.service;
        let model = service.model();
        // The record shows the error as the wire spells it (Query services have their own codes).
        let wire_error = match (outcome, service.protocol()) {
            (Err(e), Protocol::Query) => Some(billtrail_protocol::query::wire_error(model, e)),
            (Err(e), Protocol::Json) => Some(e.clone()),
            (Ok(_), _) => None,
        };
        let outcome = match (outcome, &wire_error) {
            (Ok(v), _) => Outcome::Success {
                // Secrets in the answer (new secret keys, session credentials) never reach it.
                response: Some(v)
                    .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
                    .map(|v| {
                        let mut v = v.clone();
                        model.redact_in_place(self.op.name, true, &mut v);
                        service.response_elements(v)
                    }),
            },
            (Err(_), Some(e)) | (Err(e), None) => Outcome::Failure {
                code: &e.code,
                message: &e.message,
            },
        };
        prepared.finish(outcome, resources)
    }
}

fn store_failed(e: billtrail_store::StoreError) -> ApiError {
    tracing::error!(error = %e, "could not commit a call");
    ApiError::internal()
}

/// Runs one call end to end and returns its answer once its record is durable.
pub async fn dispatch(
    env: Arc<Env>,
    principal: Principal,
    origin: Origin,
    req: Request,
) -> Result<Value, ApiError> {
    let Some(op) = find(req.service, &req.operation) else {
        // No such event exists, so there is nothing to record (CloudTrail records none either).
        return Err(ApiError::unknown_operation(format!(
            "Operation {} is not supported by this service.",
            req.operation
        )));
    };
    let model = req.service.model();
    let region = req.service.recording_region(&req.signed_region);
    let (params, checked) = match req.input {
        Err(e) => (None, Err(e)),
        Ok(input) => {
            let mut params = req.service.request_parameters(op.name, &input);
            model.redact_in_place(op.name, false, &mut params);
            let checked = model.validate_input(op.name, &input).map(|()| input);
            (Some(params), checked)
        }
    };
    let checked = checked.and_then(|input| {
        // (Query services spell errors their own way; the record shows the code sent.)
        let mut state = ReadOnly(env.store.read().as_ref());
        let mut cx = Context::new(&env, &principal, &region, &mut state);
        authorize(&mut cx, &principal, op).map(|()| input)
    });
    let audit = Audit {
        principal,
        origin,
        op,
        region,
        request_id: req.request_id,
        params,
    };
    match checked {
        Err(e) => refused(&env, audit, e).await,
        Ok(input) if op.read_only => run_read(env, audit, input).await,
        Ok(input) => run_write(env, audit, input).await,
    }
}

/// Records a call that failed before its handler ran, and answers its error.
async fn refused(env: &Env, audit: Audit, e: ApiError) -> Result<Value, ApiError> {
    let outcome = Err(e);
    let event = { audit }.event(&outcome, Vec::new(), None, None);
    env.store
        .transact(move |txn| txn.append(&event))
        .await
        .map_err(store_failed)?;
    outcome
}

async fn run_read(
    env: Arc<Env>,
    audit: Audit,
    input: Map<String, Value>,
) -> Result<Value, ApiError> {
    let env2 = env.clone();
    let (outcome, audit, resources, other) = tokio::task::spawn_blocking(move || {
        let mut state = ReadOnly(env2.store.read().as_ref());
        let mut cx = Context::new(&env2, &audit.principal, &audit.region, &mut state);
        let outcome = (audit.op.decode)(input).and_then(|input| (audit.op.handler)(&mut cx, input));
        let resources = cx.take_resources();
        let other = cx.take_also_recorded_in();
        (outcome, audit, resources, other)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "a read handler panicked");
        ApiError::internal()
    })?;
    let events = audit.events(&outcome, resources, other);
    env.store
        .transact(move |txn| events.iter().try_for_each(|e| txn.append(e).map(drop)))
        .await
        .map_err(store_failed)?;
    outcome
}

/// The bucket an operation names (its `bucket_member`) and whether it exists. Asked before the
/// transaction, since the object store is asynchronous and may be remote.
async fn check_bucket(
    env: &Env,
    op: &OpSpec,
    input: &Map<String, Value>,
) -> Result<Option<(String, bool)>, ApiError> {
    let Some(name) = op
        .bucket_member
        .and_then(|m| input.get(m))
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let exists = match &env.objects {
        None => false,
        // A name no store could hold cannot exist; the handler says why it is invalid.
        Some(_) if billtrail_objects::validate_bucket_name(name).is_err() => false,
        Some(objects) => objects.bucket_exists(name).await.map_err(|e| {
            tracing::error!(bucket = name, error = %e, "could not check whether a bucket exists");
            ApiError::internal()
        })?,
    };
    Ok(Some((name.to_string(), exists)))
}

async fn run_write(
    env: Arc<Env>,
    audit: Audit,
    input: Map<String, Value>,
) -> Result<Value, ApiError> {
    let bucket = match check_bucket(&env, audit.op, &input).await {
        Ok(b) => b,
        Err(e) => return refused(&env, audit, e).await,
    };
    // Read here rather than in the transaction, like the record below.
    let input = match (audit.op.decode)(input) {
        Ok(input) => input,
        Err(e) => return refused(&env, audit, e).await,
    };
    // The record is built here, on the request's thread, but for the outcome: the writer thread
    // that runs the transaction serves every call, and building records was a sixth of its time.
    let mut audit = audit;
    let prepared = audit.prepare(None, None);
    let env2 = env.clone();
    let outcome = env
        .store
        .transact(move |txn| {
            let mut resources = Vec::new();
            let mut other = None;
            let mut wake = false;
            let outcome = txn.atomic(|t| {
                let mut cx =
                    Context::new(&env2, &audit.principal, &audit.region, t).with_bucket(bucket);
                let out = (audit.op.handler)(&mut cx, input);
                resources = cx.take_resources();
                other = cx.take_also_recorded_in();
                wake = cx.wakes_workers();
                out
            })?;
            match other {
                None => {
                    txn.append(&audit.finish(prepared, &outcome, resources))?;
                }
                // Recorded in another account as well (rare): both records are built here.
                Some(_) => {
                    audit.params = Some(prepared.request_parameters());
                    for event in audit.events(&outcome, resources, other) {
                        txn.append(&event)?;
                    }
                }
            }
            Ok((outcome, wake))
        })
        .await
        .map_err(store_failed)?;
    let (outcome, wake) = outcome;
    if wake && outcome.is_ok() {
        env.committed.notify_waiters();
    }
    outcome
}
