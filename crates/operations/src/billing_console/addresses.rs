//! The account's addresses: `GetAddresses`, `SetContactAddress`, `ValidateAddress`.
//!
//! Rules (reference `billing-domain.md` §4.1 and §3.1):
//! - the country must be a supported ISO 3166-1 code;
//! - US, CA, GB, DE, JP, IN and BR addresses must name a state or region, and a US state must be
//!   a real one, by code or by name;
//! - postal codes follow the country's format where it is fixed (US, CA, IN, GB, DE, JP, BR);
//! - an account whose contact address is in India (served by AWS India) cannot move its contact
//!   address to another country.

use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use super::countries::{is_supported, us_state_code, STATE_REQUIRED};
use crate::{Context, Empty};

const KIND: &str = "address";
const CONTACT: &str = "contact";

/// The contact address, with the member names of the seed's `SetContactAddress` record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub full_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district_or_county: Option<String>,
    pub phone_number: String,
    pub country_code: String,
    pub address_line1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_phone: Option<String>,
}

/// A postal address (billing or tax).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub address_line1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line3: Option<String>,
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district_or_county: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub postal_code: String,
    pub country_code: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAddressesOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_address: Option<ContactAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tax_address: Option<Address>,
}

pub(crate) fn get_addresses(
    cx: &mut Context<'_>,
    _input: Empty,
) -> Result<GetAddressesOutput, ApiError> {
    Ok(GetAddressesOutput {
        contact_address: cx.get(KIND, CONTACT)?,
        billing_address: cx.get(KIND, "billing")?,
        tax_address: cx.get(KIND, "tax")?,
    })
}

pub(crate) fn set_contact_address(
    cx: &mut Context<'_>,
    input: ContactAddress,
) -> Result<Empty, ApiError> {
    let problems = check(&AddressFields {
        country_code: &input.country_code,
        state: input.state.as_deref(),
        postal_code: &input.postal_code,
    });
    if let Some((field, message)) = problems.into_iter().next() {
        return Err(ApiError::validation(format!("Invalid {field}: {message}")));
    }
    let current: Option<ContactAddress> = cx.get(KIND, CONTACT)?;
    if let Some(current) = current {
        if current.country_code == "IN" && input.country_code != "IN" {
            return Err(ApiError::validation(
                "Accounts served by AWS India cannot change the country of their contact address.",
            ));
        }
    }
    cx.put(KIND, CONTACT, &input)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateAddressInput {
    address: Address,
}

#[derive(Debug, Serialize)]
pub struct FieldError {
    field: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateAddressOutput {
    valid: bool,
    errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized_address: Option<Address>,
}

pub(crate) fn validate_address(
    _cx: &mut Context<'_>,
    input: ValidateAddressInput,
) -> Result<ValidateAddressOutput, ApiError> {
    let a = input.address;
    let errors: Vec<FieldError> = check(&AddressFields {
        country_code: &a.country_code,
        state: a.state.as_deref(),
        postal_code: &a.postal_code,
    })
    .into_iter()
    .map(|(field, message)| FieldError { field, message })
    .collect();
    let valid = errors.is_empty();
    Ok(ValidateAddressOutput {
        valid,
        errors,
        normalized_address: valid.then(|| normalize(a)),
    })
}

/// The fields the country rules look at.
struct AddressFields<'a> {
    country_code: &'a str,
    state: Option<&'a str>,
    postal_code: &'a str,
}

/// Every rule the address breaks, as `(member, message)`.
fn check(a: &AddressFields<'_>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let country = a.country_code;
    if !is_supported(country) {
        out.push((
            "countryCode",
            format!("'{country}' is not a supported country code."),
        ));
        return out;
    }
    let state = a.state.map(str::trim).filter(|s| !s.is_empty());
    if STATE_REQUIRED.contains(&country) && state.is_none() {
        out.push((
            "state",
            format!("A state or region is required for addresses in {country}."),
        ));
    }
    if country == "US" {
        if let Some(s) = state {
            if us_state_code(s).is_none() {
                out.push(("state", format!("'{s}' is not a US state.")));
            }
        }
    }
    if !postal_code_fits(country, a.postal_code.trim()) {
        out.push((
            "postalCode",
            format!(
                "'{}' is not a valid postal code for {country}.",
                a.postal_code
            ),
        ));
    }
    out
}

/// Postal code formats of the countries where the format is fixed; any other country takes any
/// non-empty code.
fn postal_code_fits(country: &str, code: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match country {
        "US" => match code.split_once('-') {
            Some((zip, plus4)) => digits(zip, 5) && digits(plus4, 4),
            None => digits(code, 5),
        },
        "IN" => digits(code, 6),
        "DE" => digits(code, 5),
        "JP" => match code.split_once('-') {
            Some((a, b)) => digits(a, 3) && digits(b, 4),
            None => digits(code, 7),
        },
        "BR" => match code.split_once('-') {
            Some((a, b)) => digits(a, 5) && digits(b, 3),
            None => digits(code, 8),
        },
        "CA" => {
            let c: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
            c.len() == 6
                && c.iter().enumerate().all(|(i, b)| {
                    if i % 2 == 0 {
                        b.is_ascii_alphabetic()
                    } else {
                        b.is_ascii_digit()
                    }
                })
        }
        "GB" => {
            let c: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            (5..=7).contains(&c.len())
                && c.chars().all(|c| c.is_ascii_alphanumeric())
                && c.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        }
        _ => !code.is_empty(),
    }
}

/// Trims every field, upper-cases the postal code and writes US states as their code.
fn normalize(a: Address) -> Address {
    let trim = |s: String| s.trim().to_string();
    let trim_opt = |s: Option<String>| s.map(trim).filter(|s| !s.is_empty());
    let state = trim_opt(a.state).map(|s| {
        if a.country_code == "US" {
            us_state_code(&s).map(str::to_string).unwrap_or(s)
        } else {
            s
        }
    });
    Address {
        address_line1: trim(a.address_line1),
        address_line2: trim_opt(a.address_line2),
        address_line3: trim_opt(a.address_line3),
        city: trim(a.city),
        district_or_county: trim_opt(a.district_or_county),
        state,
        postal_code: a.postal_code.trim().to_ascii_uppercase(),
        country_code: a.country_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(country: &'a str, state: Option<&'a str>, postal: &'a str) -> AddressFields<'a> {
        AddressFields {
            country_code: country,
            state,
            postal_code: postal,
        }
    }

    #[test]
    fn country_rules() {
        assert!(check(&fields("US", Some("Washington"), "98108")).is_empty());
        assert!(check(&fields("US", Some("WA"), "98108-1234")).is_empty());
        assert_eq!(check(&fields("US", None, "98108"))[0].0, "state");
        assert_eq!(
            check(&fields("US", Some("Atlantis"), "98108"))[0].0,
            "state"
        );
        assert_eq!(check(&fields("US", Some("WA"), "9810"))[0].0, "postalCode");
        assert_eq!(check(&fields("XX", None, "1"))[0].0, "countryCode");
        assert!(check(&fields("FR", None, "75001")).is_empty());
        assert!(check(&fields("IN", Some("Karnataka"), "560001")).is_empty());
        assert!(!check(&fields("IN", Some("Karnataka"), "5600")).is_empty());
        assert!(check(&fields("CA", Some("ON"), "K1A 0B1")).is_empty());
        assert!(check(&fields("GB", Some("London"), "SW1A 1AA")).is_empty());
    }

    #[test]
    fn normalizes_us_state_names() {
        let a = normalize(Address {
            address_line1: " 1 Main St ".into(),
            city: "Seattle".into(),
            state: Some("washington".into()),
            postal_code: "98108".into(),
            country_code: "US".into(),
            ..Default::default()
        });
        assert_eq!(a.state.as_deref(), Some("WA"));
        assert_eq!(a.address_line1, "1 Main St");
    }
}
