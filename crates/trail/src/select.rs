//! Which records a trail delivers.
//!
//! A record is delivered by a trail when all of these hold:
//! - **When**: it was committed while the trail was logging ([`LoggingPeriod`], exact by
//!   sequence number).
//! - **Whose**: it is in the trail's account, or, for an organization trail, in any account of
//!   the organization.
//! - **Where**: it is in the trail's home region, or any region for a multi-region trail.
//!   Global service events (IAM, STS, Organizations, the billing consoles: recorded in
//!   us-east-1) only when `IncludeGlobalServiceEvents` is on, and then only for multi-region
//!   trails and trails whose home region is us-east-1, as AWS does.
//! - **What**: it is a management event its selectors take. No selectors: every management
//!   event. Basic selectors: one of them takes it (`IncludeManagementEvents`,
//!   `ReadWriteType`, `ExcludeManagementEventSources`). Advanced selectors: one of them has
//!   every condition hold, on `eventCategory`, `eventSource`, `eventName` and `readOnly`; a
//!   condition on any other field holds for no management event.
//!
//! [`LoggingPeriod`]: crate::LoggingPeriod

use std::collections::BTreeSet;

use billtrail_store::StoredEvent;

use crate::model::{AdvancedFieldSelector, ReadWriteType, Selectors, Trail};

/// Event sources whose events are global service events: recorded in us-east-1 whatever region
/// the client called.
pub const GLOBAL_EVENT_SOURCES: &[&str] = &[
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "organizations.amazonaws.com",
    "signin.amazonaws.com",
    "cloudfront.amazonaws.com",
    "billingconsole.amazonaws.com",
    "taxconsole.amazonaws.com",
    "customer-verification.amazonaws.com",
    "purchase-orders.amazonaws.com",
];

/// Whether records of `event_source` are global service events.
pub fn is_global(event_source: &str) -> bool {
    GLOBAL_EVENT_SOURCES.contains(&event_source)
}

/// Whether `trail` delivers `ev`. `org_accounts` are the accounts of the trail's organization
/// (for an organization trail; `None` means only the trail's own account).
pub fn selects(trail: &Trail, org_accounts: Option<&BTreeSet<String>>, ev: &StoredEvent) -> bool {
    trail.logging.iter().any(|p| p.contains(ev.seq))
        && account_taken(trail, org_accounts, &ev.event.account_id)
        && region_taken(trail, &ev.event.region, &ev.event.event_source)
        && event_taken(&trail.selectors, ev)
}

fn account_taken(trail: &Trail, org_accounts: Option<&BTreeSet<String>>, account: &str) -> bool {
    match org_accounts {
        Some(accounts) if trail.is_organization_trail => accounts.contains(account),
        _ => trail.account_id == account,
    }
}

fn region_taken(trail: &Trail, region: &str, source: &str) -> bool {
    let here = trail.is_multi_region_trail || trail.home_region == region;
    here && (!is_global(source) || trail.include_global_service_events)
}

/// Whether the selectors take a record (regions and accounts aside).
pub fn event_taken(selectors: &Selectors, ev: &StoredEvent) -> bool {
    let e = &ev.event;
    if !e.management {
        // billtrail records no data events; no selector of ours asks for them.
        return false;
    }
    match selectors {
        Selectors::Default => true,
        Selectors::Basic(list) => list.iter().any(|s| {
            s.include_management_events
                && match s.read_write_type {
                    ReadWriteType::All => true,
                    ReadWriteType::ReadOnly => e.read_only,
                    ReadWriteType::WriteOnly => !e.read_only,
                }
                && !s
                    .exclude_management_event_sources
                    .iter()
                    .any(|x| x == &e.event_source)
        }),
        Selectors::Advanced(list) => list.iter().any(|s| {
            s.field_selectors.iter().all(|f| {
                let value = match f.field.as_str() {
                    "eventCategory" => Some("Management"),
                    "eventSource" => Some(e.event_source.as_str()),
                    "eventName" => Some(e.event_name.as_str()),
                    "readOnly" => Some(if e.read_only { "true" } else { "false" }),
                    _ => None,
                };
                value.is_some_and(|v| condition_holds(f, v))
            })
        }),
    }
}

/// Whether every operator of `f` holds for `value`.
pub fn condition_holds(f: &AdvancedFieldSelector, value: &str) -> bool {
    let any = |list: &Option<Vec<String>>, test: &dyn Fn(&str) -> bool| {
        list.as_ref().is_none_or(|l| l.iter().any(|x| test(x)))
    };
    let none = |list: &Option<Vec<String>>, test: &dyn Fn(&str) -> bool| {
        list.as_ref().is_none_or(|l| !l.iter().any(|x| test(x)))
    };
    any(&f.equals, &|x| value == x)
        && any(&f.starts_with, &|x| value.starts_with(x))
        && any(&f.ends_with, &|x| value.ends_with(x))
        && none(&f.not_equals, &|x| value == x)
        && none(&f.not_starts_with, &|x| value.starts_with(x))
        && none(&f.not_ends_with, &|x| value.ends_with(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AdvancedEventSelector, EventSelector, LoggingPeriod};
    use billtrail_store::NewEvent;

    pub(crate) fn trail() -> Trail {
        Trail {
            id: "t1".into(),
            name: "t".into(),
            arn: "arn:aws:cloudtrail:us-west-2:111111111111:trail/t".into(),
            account_id: "111111111111".into(),
            home_region: "us-west-2".into(),
            s3_bucket_name: "b".into(),
            s3_key_prefix: None,
            sns_topic_name: None,
            include_global_service_events: true,
            is_multi_region_trail: false,
            is_organization_trail: false,
            organization_id: None,
            log_file_validation_enabled: false,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            recursive_logging: None,
            is_logging: true,
            selectors: Selectors::Default,
            tags: vec![],
            created: 0,
            start_logging_time: None,
            stop_logging_time: None,
            logging: vec![LoggingPeriod {
                after: 0,
                until: None,
            }],
        }
    }

    fn ev(
        seq: u64,
        account: &str,
        region: &str,
        source: &str,
        name: &str,
        ro: bool,
    ) -> StoredEvent {
        StoredEvent {
            seq,
            event: NewEvent {
                account_id: account.into(),
                region: region.into(),
                event_time: 1_700_000_000,
                event_id: format!("id-{seq}"),
                event_name: name.into(),
                event_source: source.into(),
                read_only: ro,
                username: None,
                access_key_id: None,
                resources: vec![],
                management: true,
                record: "{}".into(),
            },
        }
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";
    const CT: &str = "cloudtrail.amazonaws.com";
    const BILL: &str = "billingconsole.amazonaws.com";

    #[test]
    fn only_records_committed_while_logging() {
        let mut t = trail();
        t.logging = vec![
            LoggingPeriod {
                after: 10,
                until: Some(20),
            },
            LoggingPeriod {
                after: 30,
                until: None,
            },
        ];
        let taken: Vec<u64> = (1..40)
            .filter(|s| selects(&t, None, &ev(*s, A, "us-west-2", CT, "X", true)))
            .collect();
        let want: Vec<u64> = (11..=20).chain(31..40).collect();
        assert_eq!(taken, want);
        t.logging.clear();
        assert!(!selects(&t, None, &ev(35, A, "us-west-2", CT, "X", true)));
    }

    #[test]
    fn single_region_trails_take_their_region_only() {
        let t = trail();
        assert!(selects(&t, None, &ev(1, A, "us-west-2", CT, "X", true)));
        assert!(!selects(&t, None, &ev(1, A, "eu-west-1", CT, "X", true)));
        // Global events are recorded in us-east-1: a us-west-2 trail never sees them.
        assert!(!selects(&t, None, &ev(1, A, "us-east-1", BILL, "X", true)));
        let mut east = trail();
        east.home_region = "us-east-1".into();
        assert!(selects(
            &east,
            None,
            &ev(1, A, "us-east-1", BILL, "X", true)
        ));
        assert!(selects(&east, None, &ev(1, A, "us-east-1", CT, "X", true)));
        east.include_global_service_events = false;
        assert!(!selects(
            &east,
            None,
            &ev(1, A, "us-east-1", BILL, "X", true)
        ));
        assert!(
            selects(&east, None, &ev(1, A, "us-east-1", CT, "X", true)),
            "a regional event in us-east-1 is not a global one"
        );
    }

    #[test]
    fn multi_region_trails_take_every_region() {
        let mut t = trail();
        t.is_multi_region_trail = true;
        for region in ["us-west-2", "eu-west-1", "ap-south-1", "us-east-1"] {
            assert!(
                selects(&t, None, &ev(1, A, region, CT, "X", true)),
                "{region}"
            );
        }
        assert!(selects(&t, None, &ev(1, A, "us-east-1", BILL, "X", true)));
        t.include_global_service_events = false;
        assert!(!selects(&t, None, &ev(1, A, "us-east-1", BILL, "X", true)));
        for source in GLOBAL_EVENT_SOURCES {
            assert!(
                !selects(&t, None, &ev(1, A, "us-east-1", source, "X", true)),
                "{source}"
            );
        }
    }

    #[test]
    fn accounts_own_or_the_organization() {
        let mut t = trail();
        assert!(!selects(&t, None, &ev(1, B, "us-west-2", CT, "X", true)));
        let org: BTreeSet<String> = [A.to_string(), B.to_string()].into();
        assert!(
            !selects(&t, Some(&org), &ev(1, B, "us-west-2", CT, "X", true)),
            "the organization's accounts count only for an organization trail"
        );
        t.is_organization_trail = true;
        assert!(selects(
            &t,
            Some(&org),
            &ev(1, B, "us-west-2", CT, "X", true)
        ));
        assert!(selects(
            &t,
            Some(&org),
            &ev(1, A, "us-west-2", CT, "X", true)
        ));
        assert!(!selects(
            &t,
            Some(&org),
            &ev(1, "333333333333", "us-west-2", CT, "X", true)
        ));
    }

    #[test]
    fn basic_selectors() {
        let r = ev(1, A, "us-west-2", CT, "DescribeTrails", true);
        let w = ev(2, A, "us-west-2", CT, "CreateTrail", false);
        let mut data = ev(3, A, "us-west-2", CT, "GetObject", true);
        data.event.management = false;
        let sel = |rw, inc, excl: &[&str]| {
            Selectors::Basic(vec![EventSelector {
                read_write_type: rw,
                include_management_events: inc,
                data_resources: vec![],
                exclude_management_event_sources: excl.iter().map(|s| s.to_string()).collect(),
            }])
        };
        let takes = |s: &Selectors, e: &StoredEvent| event_taken(s, e);
        assert!(takes(&Selectors::Default, &r) && takes(&Selectors::Default, &w));
        assert!(!takes(&Selectors::Default, &data));
        let ro = sel(ReadWriteType::ReadOnly, true, &[]);
        assert!(takes(&ro, &r) && !takes(&ro, &w));
        let wo = sel(ReadWriteType::WriteOnly, true, &[]);
        assert!(!takes(&wo, &r) && takes(&wo, &w));
        let off = sel(ReadWriteType::All, false, &[]);
        assert!(!takes(&off, &r) && !takes(&off, &w));
        let excl = sel(ReadWriteType::All, true, &[CT]);
        assert!(!takes(&excl, &r));
        assert!(takes(
            &excl,
            &ev(4, A, "us-west-2", BILL, "GetAddresses", true)
        ));
        assert!(
            !takes(&Selectors::Basic(vec![]), &r),
            "no selector takes nothing"
        );
        // Any selector may take it.
        let either = Selectors::Basic(vec![
            EventSelector {
                read_write_type: ReadWriteType::ReadOnly,
                ..EventSelector::default()
            },
            EventSelector {
                read_write_type: ReadWriteType::WriteOnly,
                ..EventSelector::default()
            },
        ]);
        assert!(takes(&either, &r) && takes(&either, &w));
    }

    fn field(name: &str) -> AdvancedFieldSelector {
        AdvancedFieldSelector {
            field: name.into(),
            ..Default::default()
        }
    }

    fn list(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn advanced_selectors() {
        let mgmt = AdvancedFieldSelector {
            equals: list(&["Management"]),
            ..field("eventCategory")
        };
        let adv = |extra: Vec<AdvancedFieldSelector>| {
            let mut f = vec![mgmt.clone()];
            f.extend(extra);
            Selectors::Advanced(vec![AdvancedEventSelector {
                name: None,
                field_selectors: f,
            }])
        };
        let get = ev(1, A, "us-east-1", BILL, "GetAddresses", true);
        let set = ev(2, A, "us-east-1", BILL, "SetContactAddress", false);
        let ct = ev(3, A, "us-east-1", CT, "CreateTrail", false);
        let all = adv(vec![]);
        assert!(event_taken(&all, &get) && event_taken(&all, &set) && event_taken(&all, &ct));
        let writes = adv(vec![AdvancedFieldSelector {
            equals: list(&["false"]),
            ..field("readOnly")
        }]);
        assert!(!event_taken(&writes, &get) && event_taken(&writes, &set));
        let not_ct = adv(vec![AdvancedFieldSelector {
            not_equals: list(&[CT]),
            ..field("eventSource")
        }]);
        assert!(event_taken(&not_ct, &get) && !event_taken(&not_ct, &ct));
        let gets = adv(vec![AdvancedFieldSelector {
            starts_with: list(&["Get", "List"]),
            ..field("eventName")
        }]);
        assert!(event_taken(&gets, &get) && !event_taken(&gets, &set));
        let not_gets = adv(vec![AdvancedFieldSelector {
            not_starts_with: list(&["Get"]),
            ..field("eventName")
        }]);
        assert!(!event_taken(&not_gets, &get) && event_taken(&not_gets, &set));
        let address = adv(vec![AdvancedFieldSelector {
            ends_with: list(&["Address"]),
            ..field("eventName")
        }]);
        assert!(event_taken(&address, &set) && !event_taken(&address, &ct));
        let not_address = adv(vec![AdvancedFieldSelector {
            not_ends_with: list(&["Address", "Addresses"]),
            ..field("eventName")
        }]);
        assert!(!event_taken(&not_address, &get) && !event_taken(&not_address, &set));
        assert!(event_taken(&not_address, &ct));
        let data_only = Selectors::Advanced(vec![AdvancedEventSelector {
            name: Some("data".into()),
            field_selectors: vec![AdvancedFieldSelector {
                equals: list(&["Data"]),
                ..field("eventCategory")
            }],
        }]);
        assert!(!event_taken(&data_only, &get));
        let unknown_field = adv(vec![AdvancedFieldSelector {
            equals: list(&["x"]),
            ..field("resources.type")
        }]);
        assert!(!event_taken(&unknown_field, &get));
        // Two operators on one field: both must hold.
        let both = adv(vec![AdvancedFieldSelector {
            starts_with: list(&["Set"]),
            not_equals: list(&["SetContactAddress"]),
            ..field("eventName")
        }]);
        assert!(!event_taken(&both, &set));
        assert!(event_taken(
            &both,
            &ev(5, A, "us-east-1", BILL, "SetAccountPreferences", false)
        ));
    }
}
