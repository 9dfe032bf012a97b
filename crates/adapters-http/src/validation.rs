//! Checking a JSON body field by field, with every error collected.
//!
//! serde stops at the first problem, but the 422 answer lists every
//! offending field, in the schema's field order, in pydantic v2's
//! vocabulary (`API.md`, "Errors"). So a body is first parsed into a
//! [`serde_json::Value`] (a repeated key keeps its last value, as Python's
//! `json` module does), then each request type reads its declared fields
//! through [`Fields`], which records one error per bad field and ignores
//! undeclared ones.
//!
//! An error never echoes the input: the input could be a password.

use std::borrow::Cow;

use portal_auth_domain::password::MAX_PASSWORD_CHARS;
use portal_auth_domain::{Email, Password, PasswordError};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::json_position;

/// One entry of a 422 answer's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ValidationError {
    // `["body"]` or `["body", field]`, or `["body", position]` for
    // malformed JSON. (No doc comment: it would become a description the
    // seed's schema lacks.)
    #[schema(inline)]
    pub loc: Vec<Loc>,
    pub msg: Cow<'static, str>,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: &'static str,
}

// An element of `loc`: a field name or a character position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Loc {
    Name(&'static str),
    Position(usize),
}

impl ValidationError {
    fn new(loc: Vec<Loc>, kind: &'static str, msg: impl Into<Cow<'static, str>>) -> Self {
        Self {
            loc,
            msg: msg.into(),
            kind,
        }
    }

    fn field(field: &'static str, kind: &'static str, msg: impl Into<Cow<'static, str>>) -> Self {
        Self::new(vec![Loc::Name("body"), Loc::Name(field)], kind, msg)
    }

    pub(crate) fn body_missing() -> Self {
        Self::new(vec![Loc::Name("body")], "missing", "Field required")
    }

    pub(crate) fn json_invalid(position: usize) -> Self {
        Self::new(
            vec![Loc::Name("body"), Loc::Position(position)],
            "json_invalid",
            "JSON decode error",
        )
    }

    fn not_an_object() -> Self {
        Self::new(
            vec![Loc::Name("body")],
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        )
    }
}

/// A request body type that reads its declared fields, in schema order.
///
/// `read` must ask `fields` for every declared field before it combines
/// the results, so that all errors are collected; it returns `None` exactly
/// when some field was recorded as an error.
pub(crate) trait JsonRequest: Sized {
    fn read(fields: &mut Fields<'_>) -> Option<Self>;
}

/// Decodes a whole body into a request, or into every reason it cannot be
/// one.
///
/// # Errors
///
/// The 422 `detail` list: malformed JSON, an empty or `null` body, a body
/// that is not an object, or one error per offending field.
pub(crate) fn decode<T: JsonRequest>(body: &[u8]) -> Result<T, Vec<ValidationError>> {
    match parse(body)? {
        Value::Object(object) => read_object(&object),
        // FastAPI treats a `null` body like an absent one.
        Value::Null => Err(vec![ValidationError::body_missing()]),
        _ => Err(vec![ValidationError::not_an_object()]),
    }
}

fn parse(body: &[u8]) -> Result<Value, Vec<ValidationError>> {
    if body.is_empty() {
        return Err(vec![ValidationError::body_missing()]);
    }
    // Python decodes a body with a UTF-8 byte order mark as `utf-8-sig`,
    // so the mark is neither an error nor counted in positions.
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|error| {
        let position = json_position::utf8_error_position(body, &error);
        vec![ValidationError::json_invalid(position)]
    })?;
    serde_json::from_str(text).map_err(|error| {
        let position = json_position::error_position(text, &error);
        vec![ValidationError::json_invalid(position)]
    })
}

fn read_object<T: JsonRequest>(object: &Map<String, Value>) -> Result<T, Vec<ValidationError>> {
    let mut fields = Fields {
        object,
        errors: Vec::new(),
    };
    let request = T::read(&mut fields);
    match request {
        Some(request) if fields.errors.is_empty() => Ok(request),
        // `read` yields `None` only after recording an error, so the list
        // is never empty here.
        _ => Err(fields.errors),
    }
}

/// The declared fields of one JSON object, read one at a time.
pub(crate) struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<ValidationError>,
}

impl Fields<'_> {
    fn reject<T>(&mut self, error: ValidationError) -> Option<T> {
        self.errors.push(error);
        None
    }

    /// A required string; `null` is not a string.
    pub(crate) fn string(&mut self, name: &'static str) -> Option<String> {
        match self.object.get(name) {
            None => self.reject(ValidationError::field(name, "missing", "Field required")),
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => self.reject(string_type(name)),
        }
    }

    /// An optional, nullable string: absent and `null` are both `None`.
    pub(crate) fn optional_string(&mut self, name: &'static str) -> Option<Option<String>> {
        match self.object.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(text.clone())),
            Some(_) => self.reject(string_type(name)),
        }
    }

    /// A required email address, normalised by [`Email::parse`].
    pub(crate) fn email(&mut self, name: &'static str) -> Option<Email> {
        let text = self.string(name)?;
        match Email::parse(&text) {
            Ok(email) => Some(email),
            Err(reason) => self.reject(ValidationError::field(
                name,
                "value_error",
                format!("value is not a valid email address: {reason}"),
            )),
        }
    }

    /// A required password of at most [`MAX_PASSWORD_CHARS`] characters.
    pub(crate) fn password(&mut self, name: &'static str) -> Option<Password> {
        let text = self.string(name)?;
        match Password::presented(&text) {
            Ok(password) => Some(password),
            Err(PasswordError::TooLong | PasswordError::TooShort) => {
                self.reject(ValidationError::field(
                    name,
                    "string_too_long",
                    format!("String should have at most {MAX_PASSWORD_CHARS} characters"),
                ))
            }
        }
    }

    /// An optional boolean in pydantic's lax mode, `default` when absent.
    pub(crate) fn lax_bool(&mut self, name: &'static str, default: bool) -> Option<bool> {
        match self.object.get(name) {
            None => Some(default),
            Some(value) => match lax_bool(value) {
                Some(flag) => Some(flag),
                None => self.reject(ValidationError::field(
                    name,
                    "bool_type",
                    "Input should be a valid boolean",
                )),
            },
        }
    }
}

fn string_type(name: &'static str) -> ValidationError {
    ValidationError::field(name, "string_type", "Input should be a valid string")
}

/// pydantic v2's lax booleans: `true`/`false`; numbers equal to 0 or 1
/// (JSON has one number type, so `1.0` is `1`, as pydantic also decides);
/// and a fixed set of words in any ASCII case, without trimming.
///
/// Everything else is answered `bool_type`, as `API.md`'s table says,
/// where pydantic itself says `bool_parsing` ("unable to interpret input")
/// for an unknown word or a number other than 0 and 1.
fn lax_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_f64() {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
        Value::String(word) => {
            let is = |candidates: &[&str]| candidates.iter().any(|c| word.eq_ignore_ascii_case(c));
            if is(&["true", "t", "yes", "y", "on", "1"]) {
                Some(true)
            } else if is(&["false", "f", "no", "n", "off", "0"]) {
                Some(false)
            } else {
                None
            }
        }
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A request with one field of each kind, in a fixed order.
    #[derive(Debug)]
    struct Sample {
        email: Email,
        token: String,
        note: Option<String>,
        password: Password,
        flag: bool,
    }

    impl JsonRequest for Sample {
        fn read(fields: &mut Fields<'_>) -> Option<Self> {
            let email = fields.email("email");
            let token = fields.string("token");
            let note = fields.optional_string("note");
            let password = fields.password("password");
            let flag = fields.lax_bool("flag", false);
            Some(Self {
                email: email?,
                token: token?,
                note: note?,
                password: password?,
                flag: flag?,
            })
        }
    }

    fn errors(body: &str) -> Value {
        match decode::<Sample>(body.as_bytes()) {
            Ok(sample) => panic!("{body} was accepted: {sample:?}"),
            Err(errors) => json!(errors),
        }
    }

    fn flag(value: Value) -> Option<bool> {
        let body = json!({"email": "a@b.co", "token": "t", "password": "p", "flag": value});
        decode::<Sample>(body.to_string().as_bytes())
            .ok()
            .map(|s| s.flag)
    }

    #[test]
    fn a_valid_body_is_decoded_with_defaults_for_absent_optional_fields() {
        let body = r#"{"email": " A@B.CO ", "token": "t", "password": "pw"}"#;
        let sample = decode::<Sample>(body.as_bytes()).ok();
        let sample = sample.as_ref();
        assert_eq!(sample.map(|s| s.email.as_str()), Some("a@b.co"));
        assert_eq!(sample.map(|s| s.token.as_str()), Some("t"));
        assert_eq!(sample.map(|s| s.note.is_none()), Some(true));
        assert_eq!(sample.map(|s| s.password.expose()), Some("pw"));
        assert_eq!(sample.map(|s| s.flag), Some(false));
    }

    #[test]
    fn every_bad_field_is_reported_in_schema_order() {
        let body = r#"{"flag": "maybe", "password": 5, "note": 1, "token": null, "email": "x"}"#;
        assert_eq!(
            errors(body),
            json!([
                {"loc": ["body", "email"], "msg": "value is not a valid email address: An email address must have an @-sign.", "type": "value_error"},
                {"loc": ["body", "token"], "msg": "Input should be a valid string", "type": "string_type"},
                {"loc": ["body", "note"], "msg": "Input should be a valid string", "type": "string_type"},
                {"loc": ["body", "password"], "msg": "Input should be a valid string", "type": "string_type"},
                {"loc": ["body", "flag"], "msg": "Input should be a valid boolean", "type": "bool_type"},
            ])
        );
    }

    #[test]
    fn absent_required_fields_are_missing() {
        assert_eq!(
            errors("{}"),
            json!([
                {"loc": ["body", "email"], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "token"], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "password"], "msg": "Field required", "type": "missing"},
            ])
        );
    }

    #[test]
    fn an_email_of_the_wrong_type_is_a_string_type_error() {
        let body = r#"{"email": ["a@b.co"], "token": "t", "password": "p"}"#;
        assert_eq!(
            errors(body),
            json!([{"loc": ["body", "email"], "msg": "Input should be a valid string", "type": "string_type"}])
        );
    }

    #[test]
    fn a_password_longer_than_1024_characters_is_too_long() {
        let ok = json!({"email": "a@b.co", "token": "t", "password": "é".repeat(1024)});
        assert!(decode::<Sample>(ok.to_string().as_bytes()).is_ok());
        let long = json!({"email": "a@b.co", "token": "t", "password": "p".repeat(1025)});
        assert_eq!(
            errors(&long.to_string()),
            json!([{"loc": ["body", "password"], "msg": "String should have at most 1024 characters", "type": "string_too_long"}])
        );
    }

    #[test]
    fn the_last_of_repeated_keys_wins_and_undeclared_keys_are_ignored() {
        let body =
            r#"{"token": 1, "email": "a@b.co", "password": "p", "token": "two", "extra": {}}"#;
        let sample = decode::<Sample>(body.as_bytes()).ok();
        assert_eq!(sample.map(|s| s.token), Some("two".to_owned()));
    }

    #[test]
    fn a_nullable_string_accepts_null() {
        let body = r#"{"email": "a@b.co", "token": "t", "password": "p", "note": null}"#;
        assert!(decode::<Sample>(body.as_bytes()).is_ok_and(|s| s.note.is_none()));
    }

    #[test]
    fn lax_booleans_follow_pydantic() {
        for (value, expected) in [
            (json!(true), true),
            (json!(false), false),
            (json!(1), true),
            (json!(0), false),
            (json!(1.0), true),
            (json!(0.0), false),
            (json!(-0.0), false),
            (json!("TRUE"), true),
            (json!("On"), true),
            (json!("y"), true),
            (json!("t"), true),
            (json!("Yes"), true),
            (json!("1"), true),
            (json!("fAlSe"), false),
            (json!("OFF"), false),
            (json!("n"), false),
            (json!("F"), false),
            (json!("no"), false),
            (json!("0"), false),
        ] {
            assert_eq!(flag(value.clone()), Some(expected), "{value}");
        }
    }

    #[test]
    fn other_values_are_not_booleans() {
        for value in [
            json!(2),
            json!(-1),
            json!(1.5),
            json!(null),
            json!(""),
            json!(" true"),
            json!("maybe"),
            json!("2"),
            json!([]),
            json!({}),
        ] {
            assert_eq!(flag(value.clone()), None, "{value}");
        }
    }

    #[test]
    fn empty_and_null_bodies_are_missing() {
        let missing = json!([{"loc": ["body"], "msg": "Field required", "type": "missing"}]);
        assert_eq!(errors(""), missing);
        assert_eq!(errors("null"), missing);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_as_a_whole() {
        for body in ["[]", "\"x\"", "1", "true"] {
            assert_eq!(
                errors(body),
                json!([{"loc": ["body"], "msg": "Input should be a valid dictionary or object to extract fields from", "type": "model_attributes_type"}]),
                "{body}"
            );
        }
    }

    #[test]
    fn malformed_json_is_located_by_character() {
        assert_eq!(
            errors("{\"email\": \"é\", }"),
            json!([{"loc": ["body", 15], "msg": "JSON decode error", "type": "json_invalid"}])
        );
        assert_eq!(
            errors("  "),
            json!([{"loc": ["body", 2], "msg": "JSON decode error", "type": "json_invalid"}])
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_not_counted() {
        let body = "\u{feff}{\"email\": \"a@b.co\", \"token\": \"t\", \"password\": \"p\"}";
        assert!(decode::<Sample>(body.as_bytes()).is_ok());
        assert_eq!(
            errors("\u{feff}{,"),
            json!([{"loc": ["body", 1], "msg": "JSON decode error", "type": "json_invalid"}])
        );
    }

    #[test]
    fn invalid_utf8_is_malformed_json() {
        let mut body = b"{\"email\": \"".to_vec();
        body.extend([0xc3, 0x28, b'"', b'}']);
        let errors = decode::<Sample>(&body).err();
        assert_eq!(errors, Some(vec![ValidationError::json_invalid(11)]));
    }
}
