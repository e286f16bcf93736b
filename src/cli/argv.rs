//! Lets user data that starts with a minus sign reach the commands that take it:
//! `compute -1,2,7,9` must get the product's own sentence about negative numbers, not a
//! parser message about an unknown flag `-1`. Flags still work before or after the data.

use std::ffi::OsString;

use clap::{Arg, Command};

/// Rewrites the arguments of a subcommand with positional values so that every token that
/// starts with `-` but names none of its flags is passed as a value: flags first, then
/// `--`, then the values in their order. Arguments without such a token are left alone.
pub fn user_data_behind_double_dash(mut cmd: Command, args: Vec<OsString>) -> Vec<OsString> {
    cmd.build();
    let Some((at, sub)) = find_subcommand(&cmd, &args) else {
        return args;
    };
    if !sub.get_arguments().any(Arg::is_positional) || sub.has_subcommands() {
        return args;
    }
    let flags: Vec<&Arg> = sub
        .get_arguments()
        .chain(cmd.get_arguments())
        .filter(|a| !a.is_positional())
        .collect();
    let mut named = Vec::new();
    let mut values = Vec::new();
    let mut hyphen_value = false;
    let mut rest = args[at + 1..].iter();
    while let Some(token) = rest.next() {
        let Some(text) = token.to_str() else {
            values.push(token.clone());
            continue;
        };
        if text == "--" {
            values.extend(rest.by_ref().cloned());
            break;
        }
        let flag = if let Some(long) = text.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            // Unknown long flags stay flags: clap names them and suggests the right one.
            Some(find_flag(&flags, |a| a.get_long() == Some(name)).map(|a| (a, long.contains('='))))
        } else if let Some(short) = text.strip_prefix('-').and_then(|s| s.chars().next()) {
            find_flag(&flags, |a| a.get_short() == Some(short)).map(|a| Some((a, text.len() > 2)))
        } else {
            None
        };
        match flag {
            Some(found) => {
                named.push(token.clone());
                let takes_value =
                    found.is_some_and(|(a, inline)| !inline && a.get_action().takes_values());
                if takes_value && let Some(v) = rest.next() {
                    named.push(v.clone());
                }
            }
            None => {
                hyphen_value |= text.starts_with('-') && text.len() > 1;
                values.push(token.clone());
            }
        }
    }
    if !hyphen_value {
        return args;
    }
    let mut out = args[..=at].to_vec();
    out.extend(named);
    out.push("--".into());
    out.extend(values);
    out
}

fn find_flag<'a>(flags: &[&'a Arg], pred: impl Fn(&Arg) -> bool) -> Option<&'a Arg> {
    flags.iter().copied().find(|a| pred(a))
}

/// The subcommand's position and definition: the first token naming one that is not the
/// value of a global flag before it.
fn find_subcommand<'c>(cmd: &'c Command, args: &[OsString]) -> Option<(usize, &'c Command)> {
    let mut i = 1;
    while i < args.len() {
        let text = args[i].to_str()?;
        if text == "--" {
            return None;
        }
        if let Some(long) = text.strip_prefix("--") {
            let takes_value = !long.contains('=')
                && cmd
                    .get_arguments()
                    .any(|a| a.get_long() == Some(long) && a.get_action().takes_values());
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        if text.starts_with('-') {
            i += 1;
            continue;
        }
        return cmd.find_subcommand(text).map(|s| (i, s));
    }
    None
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    fn rewrite(line: &str) -> String {
        let args = line.split(' ').map(OsString::from).collect();
        user_data_behind_double_dash(Cli::command(), args)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn negative_looking_data_goes_behind_double_dash() {
        assert_eq!(rewrite("h compute -1,2,7,9"), "h compute -- -1,2,7,9");
        assert_eq!(rewrite("h compute --json -1,2"), "h compute --json -- -1,2");
        assert_eq!(
            rewrite("h compute -1,2 --timeout 5"),
            "h compute --timeout 5 -- -1,2"
        );
        assert_eq!(rewrite("h compute 3 -1, 2"), "h compute -- 3 -1, 2");
        assert_eq!(
            rewrite("h --user ann label -a.jpg=1 b.jpg=0"),
            "h --user ann label -- -a.jpg=1 b.jpg=0"
        );
        assert_eq!(
            rewrite("h compute --timeout=5 -5"),
            "h compute --timeout=5 -- -5"
        );
    }

    #[test]
    fn everything_else_is_left_alone() {
        for line in [
            "h compute 1,2,3",
            "h compute --help",
            "h compute -h",
            "h compute --jsn 1",
            "h compute -- -1",
            "h stats --json",
            "h",
            "h --user compute stats",
        ] {
            assert_eq!(rewrite(line), line);
        }
    }
}
