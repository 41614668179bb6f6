//! Times as people read them: relative ("3 hours ago", "in 29 days") with the exact
//! value in the browser's locale and time zone for hover and focus.

const MINUTE: f64 = 60_000.0;
const HOUR: f64 = 60.0 * MINUTE;
const DAY: f64 = 24.0 * HOUR;

/// "just now", "5 minutes ago", "in 3 days"… from two epoch-millisecond times.
pub fn relative(now_ms: f64, then_ms: f64) -> String {
    let delta = then_ms - now_ms;
    let abs = delta.abs();
    if abs < 45_000.0 {
        return "just now".into();
    }
    let (amount, unit) = if abs < HOUR {
        ((abs / MINUTE).round(), "minute")
    } else if abs < DAY {
        ((abs / HOUR).round(), "hour")
    } else if abs < 30.0 * DAY {
        ((abs / DAY).round(), "day")
    } else if abs < 365.0 * DAY {
        ((abs / (30.0 * DAY)).round(), "month")
    } else {
        ((abs / (365.0 * DAY)).round(), "year")
    };
    let amount = amount.max(1.0) as u64;
    let plural = if amount == 1 { "" } else { "s" };
    if delta < 0.0 {
        format!("{amount} {unit}{plural} ago")
    } else {
        format!("in {amount} {unit}{plural}")
    }
}

/// Epoch milliseconds of an ISO-8601 string, if it is one.
pub fn parse_iso(value: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(value);
    (!ms.is_nan()).then_some(ms)
}

/// The ISO-8601 form of epoch milliseconds.
pub fn iso(ms: f64) -> String {
    String::from(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms)).to_iso_string())
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The exact time in the browser's locale and time zone.
pub fn exact(ms: f64) -> String {
    use wasm_bindgen::JsValue;
    // One formatter for the page: `Date.toLocaleString` builds a new one per call, which
    // made a 100-token table spend ~10 ms here. Same fields, so the same text.
    thread_local! {
        static FORMAT: js_sys::Function = {
            let options = js_sys::Object::new();
            for field in ["year", "month", "day", "hour", "minute", "second"] {
                let _ = js_sys::Reflect::set(&options, &field.into(), &"numeric".into());
            }
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options).format()
        };
    }
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    FORMAT
        .with(|format| format.call1(&JsValue::UNDEFINED, &date))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// Initials for the user menu: "Alice Analyst" → "AA", "admin" → "ad" (the avatar's CSS
/// shows them in capitals: `str::to_uppercase` would add Unicode's case tables to the
/// wasm, about 5 KB with brotli).
pub fn initials(display_name: &str) -> String {
    let words: Vec<&str> = display_name.split_whitespace().collect();
    let letters: String = match words.as_slice() {
        [] => String::new(),
        [one] => one.chars().take(2).collect(),
        [first, .., last] => first.chars().take(1).chain(last.chars().take(1)).collect(),
    };
    letters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_800_000_000_000.0;
        assert_eq!(relative(now, now - 10_000.0), "just now");
        assert_eq!(relative(now, now - 5.0 * MINUTE), "5 minutes ago");
        assert_eq!(relative(now, now - MINUTE), "1 minute ago");
        assert_eq!(relative(now, now - 3.0 * HOUR), "3 hours ago");
        assert_eq!(relative(now, now + 29.0 * DAY), "in 29 days");
        assert_eq!(relative(now, now + 90.0 * DAY), "in 3 months");
        assert_eq!(relative(now, now - 400.0 * DAY), "1 year ago");
    }

    #[test]
    fn initials_take_first_and_last_words() {
        assert_eq!(initials("Alice Analyst"), "AA");
        assert_eq!(initials("admin"), "ad");
        assert_eq!(initials("Mary Ann Smith"), "MS");
        assert_eq!(initials(""), "");
    }
}
