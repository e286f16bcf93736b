//! The compute service's rules: parsing a list of whole numbers and summarising it.
//! Pure and exact: sums are kept in `u128`, the mean and median are exact fractions
//! that are only rounded (to two decimals) when shown.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::names::display_safe;

/// At most this many numbers are accepted in one request.
pub const MAX_NUMBERS: usize = 10;

/// Why a list of numbers was refused. Each message is one sentence that names the culprit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumbersError {
    #[error(
        "No numbers were given: enter 1 to {MAX_NUMBERS} whole numbers separated by commas or spaces, for example 1,12,55,4."
    )]
    Empty,
    #[error(
        "\"{0}\" is not a whole number: use only the digits 0-9, separated by commas or spaces."
    )]
    NotANumber(String),
    #[error("{0} is a negative number: only whole numbers of 0 or more are accepted.")]
    Negative(String),
    #[error(
        "Number {position} is missing: two commas have nothing between them; type the number or remove a comma."
    )]
    MissingNumber { position: usize },
    #[error("{0} numbers were given, but at most {MAX_NUMBERS} are accepted.")]
    TooMany(usize),
    #[error("{0} is too large: the largest accepted number is {max}.", max = u64::MAX)]
    TooLarge(String),
}

/// Parses `1,12,55,4` or `1, 12 55 4`: commas and any whitespace separate numbers. Two
/// commas with nothing between them (`1,,2`) are refused: almost always a missing number.
pub fn parse_numbers(input: &str) -> Result<Vec<u64>, NumbersError> {
    let mut tokens: Vec<&str> = Vec::new();
    let fields: Vec<&str> = input.split(',').collect();
    let mut missing = None;
    for (i, field) in fields.iter().enumerate() {
        let before = tokens.len();
        tokens.extend(field.split(char::is_whitespace).filter(|t| !t.is_empty()));
        let inner = i > 0 && i + 1 < fields.len();
        if inner && tokens.len() == before && before > 0 && missing.is_none() {
            missing = Some(before + 1);
        }
    }
    if tokens.is_empty() {
        return Err(NumbersError::Empty);
    }
    if let Some(position) = missing {
        return Err(NumbersError::MissingNumber { position });
    }
    let mut numbers = Vec::with_capacity(tokens.len().min(MAX_NUMBERS));
    for token in &tokens {
        numbers.push(parse_token(token)?);
    }
    if numbers.len() > MAX_NUMBERS {
        return Err(NumbersError::TooMany(numbers.len()));
    }
    Ok(numbers)
}

fn parse_token(token: &str) -> Result<u64, NumbersError> {
    let shown = || shorten(token);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(token) {
        return token
            .parse::<u64>()
            .map_err(|_| NumbersError::TooLarge(shown()));
    }
    if let Some(rest) = token.strip_prefix('-')
        && all_digits(rest)
    {
        return Err(NumbersError::Negative(shown()));
    }
    Err(NumbersError::NotANumber(shown()))
}

/// Keeps error messages short and free of terminal escapes, whatever a client sent.
fn shorten(token: &str) -> String {
    const LIMIT: usize = 40;
    let safe = display_safe(token);
    if safe.chars().count() <= LIMIT {
        safe
    } else {
        let mut s: String = safe.chars().take(LIMIT).collect();
        s.push('…');
        s
    }
}

/// An exact non-negative fraction, shown with up to two decimals, trailing zeros trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    pub numerator: u128,
    pub denominator: u128,
}

impl Fraction {
    pub fn as_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Round half up to hundredths: (2*100*n + d) / (2*d). n ≤ 10·u64::MAX so this fits in u128.
        let hundredths = (self.numerator * 200 + self.denominator) / (self.denominator * 2);
        let whole = hundredths / 100;
        let cents = hundredths % 100;
        if cents == 0 {
            write!(f, "{whole}")
        } else if cents.is_multiple_of(10) {
            write!(f, "{whole}.{}", cents / 10)
        } else {
            write!(f, "{whole}.{cents:02}")
        }
    }
}

/// The answer to one compute request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub count: usize,
    pub minimum: u64,
    pub maximum: u64,
    pub mean: Fraction,
    pub median: Fraction,
}

/// Summarises a non-empty list; `None` for an empty one.
pub fn summarise(numbers: &[u64]) -> Option<Summary> {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    let (&minimum, &maximum) = (sorted.first()?, sorted.last()?);
    let n = sorted.len();
    let sum: u128 = sorted.iter().map(|&x| u128::from(x)).sum();
    let median = if n % 2 == 1 {
        Fraction {
            numerator: u128::from(sorted[n / 2]),
            denominator: 1,
        }
    } else {
        Fraction {
            numerator: u128::from(sorted[n / 2 - 1]) + u128::from(sorted[n / 2]),
            denominator: 2,
        }
    };
    Some(Summary {
        count: n,
        minimum,
        maximum,
        mean: Fraction {
            numerator: sum,
            denominator: n as u128,
        },
        median,
    })
}

impl fmt::Display for Summary {
    /// The original system's wording: `minimum is 1 maximum is 55 average is 18 median is 8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "minimum is {} maximum is {} average is {} median is {}",
            self.minimum, self.maximum, self.mean, self.median
        )
    }
}

/// The structured form of a result, as sent in replies and printed by `compute --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryJson {
    pub count: usize,
    pub minimum: u64,
    pub maximum: u64,
    /// Exact value rounded to two decimals, as text (`"3.33"`).
    pub average: String,
    pub median: String,
    pub text: String,
}

impl From<&Summary> for SummaryJson {
    fn from(s: &Summary) -> Self {
        SummaryJson {
            count: s.count,
            minimum: s.minimum,
            maximum: s.maximum,
            average: s.mean.to_string(),
            median: s.median.to_string(),
            text: s.to_string(),
        }
    }
}

/// Parse then summarise: the whole of what a worker does with a request body.
pub fn compute(input: &str) -> Result<Summary, NumbersError> {
    let numbers = parse_numbers(input)?;
    summarise(&numbers).ok_or(NumbersError::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(input: &str) -> String {
        match compute(input) {
            Ok(s) => s.to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn original_example() {
        assert_eq!(
            text("1,12,55,4"),
            "minimum is 1 maximum is 55 average is 18 median is 8"
        );
        assert_eq!(
            text("1, 12 55 4"),
            "minimum is 1 maximum is 55 average is 18 median is 8"
        );
    }

    #[test]
    fn separators_are_commas_and_any_whitespace() {
        assert_eq!(parse_numbers(" 3\t4\n5 ,6,7, "), Ok(vec![3, 4, 5, 6, 7]));
    }

    #[test]
    fn two_commas_with_nothing_between_are_a_missing_number() {
        let missing = |position| Err(NumbersError::MissingNumber { position });
        assert_eq!(parse_numbers("1,,2"), missing(2));
        assert_eq!(parse_numbers("1 5, ,2"), missing(3));
        assert_eq!(parse_numbers("1,2,,,3"), missing(3));
        assert_eq!(
            parse_numbers("1,,2").unwrap_err().to_string(),
            "Number 2 is missing: two commas have nothing between them; type the number or remove a comma."
        );
        // A trailing comma and a leading one name no position between numbers: accepted.
        assert_eq!(parse_numbers("1,2,"), Ok(vec![1, 2]));
        assert_eq!(parse_numbers(",1"), Ok(vec![1]));
    }

    #[test]
    fn odd_and_even_medians() {
        assert_eq!(
            compute("3 1 2").map(|s| s.median.to_string()),
            Ok("2".into())
        );
        assert_eq!(
            compute("1 2").map(|s| s.median.to_string()),
            Ok("1.5".into())
        );
        assert_eq!(
            compute("7").map(|s| s.to_string()),
            Ok("minimum is 7 maximum is 7 average is 7 median is 7".into())
        );
    }

    #[test]
    fn decimals_are_rounded_and_trimmed() {
        assert_eq!(
            compute("1 2 7").map(|s| s.mean.to_string()),
            Ok("3.33".into())
        );
        assert_eq!(
            compute("2 2 3 3 3 3 3 3 3 3").map(|s| s.mean.to_string()),
            Ok("2.8".into())
        );
        assert_eq!(
            compute("0 0 2").map(|s| s.mean.to_string()),
            Ok("0.67".into())
        );
        assert_eq!(
            compute("1 1 1 2 2 2 2 2").map(|s| s.mean.to_string()),
            Ok("1.63".into())
        );
        // 0.125 rounds half up to 0.13
        assert_eq!(
            Fraction {
                numerator: 1,
                denominator: 8
            }
            .to_string(),
            "0.13"
        );
    }

    #[test]
    fn huge_values_never_overflow() {
        let max = u64::MAX;
        let input = vec![max.to_string(); 10].join(",");
        let s = compute(&input).unwrap();
        assert_eq!(s.mean.to_string(), max.to_string());
        assert_eq!(s.median.to_string(), max.to_string());
        let s = compute(&format!("{max} {}", max - 1)).unwrap();
        assert_eq!(s.median.to_string(), "18446744073709551614.5");
    }

    #[test]
    fn errors_name_the_culprit() {
        assert_eq!(parse_numbers(""), Err(NumbersError::Empty));
        assert_eq!(parse_numbers(" , ,"), Err(NumbersError::Empty));
        assert_eq!(
            parse_numbers("1,-5,3"),
            Err(NumbersError::Negative("-5".into()))
        );
        assert_eq!(
            parse_numbers("1,abc"),
            Err(NumbersError::NotANumber("abc".into()))
        );
        assert_eq!(
            parse_numbers("1.5"),
            Err(NumbersError::NotANumber("1.5".into()))
        );
        assert_eq!(
            parse_numbers("+5"),
            Err(NumbersError::NotANumber("+5".into()))
        );
        assert_eq!(
            parse_numbers("１２"),
            Err(NumbersError::NotANumber("１２".into()))
        );
        assert_eq!(
            parse_numbers("18446744073709551616"),
            Err(NumbersError::TooLarge("18446744073709551616".into()))
        );
        assert_eq!(
            parse_numbers("1 2 3 4 5 6 7 8 9 10 11"),
            Err(NumbersError::TooMany(11))
        );
        assert!(parse_numbers("1 2 3 4 5 6 7 8 9 10").is_ok());
    }

    #[test]
    fn error_sentences_read_well() {
        assert_eq!(
            NumbersError::Negative("-5".into()).to_string(),
            "-5 is a negative number: only whole numbers of 0 or more are accepted."
        );
        assert_eq!(
            NumbersError::TooMany(11).to_string(),
            "11 numbers were given, but at most 10 are accepted."
        );
    }

    #[test]
    fn culprits_are_shortened_and_made_safe() {
        let long = "x".repeat(100);
        match parse_numbers(&long) {
            Err(NumbersError::NotANumber(s)) => assert_eq!(s.chars().count(), 41),
            other => panic!("unexpected {other:?}"),
        }
        match parse_numbers("\u{1b}[31m") {
            Err(NumbersError::NotANumber(s)) => assert!(!s.contains('\u{1b}')),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// The simplest correct parser, to compare against.
    fn reference(input: &str) -> Option<Vec<u64>> {
        let tokens: Vec<&str> = input
            .split([',', ' ', '\t', '\n', '\r'])
            .filter(|t| !t.is_empty())
            .collect();
        let fields: Vec<&str> = input.split(',').collect();
        let mut seen_number = false;
        for (i, f) in fields.iter().enumerate() {
            let blank = f.trim_matches([' ', '\t', '\n', '\r']).is_empty();
            if blank && seen_number && i + 1 < fields.len() && i > 0 {
                return None;
            }
            seen_number |= !blank;
        }
        if tokens.is_empty()
            || tokens.len() > MAX_NUMBERS
            || input
                .chars()
                .any(|c| c.is_whitespace() && !matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            return None;
        }
        tokens
            .iter()
            .map(|t| {
                if t.bytes().all(|b| b.is_ascii_digit()) {
                    t.parse().ok()
                } else {
                    None
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_on_any_string(s in any::<String>()) {
            let _ = compute(&s);
        }

        #[test]
        fn agrees_with_the_reference(s in "[0-9, \t\n\\-a+.]{0,40}") {
            prop_assert_eq!(parse_numbers(&s).ok(), reference(&s));
        }

        #[test]
        fn summaries_are_right(v in proptest::collection::vec(any::<u64>(), 1..=10)) {
            let text = v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
            let s = compute(&text).unwrap();
            let mut sorted = v.clone();
            sorted.sort_unstable();
            prop_assert_eq!(s.minimum, sorted[0]);
            prop_assert_eq!(s.maximum, *sorted.last().unwrap());
            let sum: u128 = v.iter().map(|&x| u128::from(x)).sum();
            prop_assert_eq!(s.mean.numerator, sum);
            prop_assert!(s.median.as_f64() >= s.minimum as f64 && s.median.as_f64() <= s.maximum as f64);
        }
    }
}
