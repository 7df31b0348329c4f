//! The command line of a stdio server: program, arguments, environment, working directory.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The process to spawn for the stdio transport.
#[derive(Debug, Clone)]
pub struct StdioCommand {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Working directory (default: inherited).
    pub cwd: Option<PathBuf>,
}

impl StdioCommand {
    /// Parse a command line such as `"node server.js --flag"`: words split on whitespace, with
    /// single or double quotes grouping words.
    pub fn parse(line: &str) -> Result<Self> {
        let words = split_command_line(line)?;
        let mut it = words.into_iter();
        let program = it
            .next()
            .ok_or_else(|| Error::InvalidArgument("the stdio command is empty".into()))?;
        Ok(StdioCommand {
            program,
            args: it.collect(),
            env: Vec::new(),
            cwd: None,
        })
    }
}

fn split_command_line(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some(n) => cur.push(n),
                None => cur.push('\\'),
            },
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(Error::InvalidArgument(
            "unterminated quote in the stdio command".into(),
        ));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_like_a_shell() {
        let c = StdioCommand::parse(r#"node "my server.js" --name 'a b' x\ y"#).unwrap();
        assert_eq!(c.program, "node");
        assert_eq!(c.args, vec!["my server.js", "--name", "a b", "x y"]);
        assert!(StdioCommand::parse("  ").is_err());
        assert!(StdioCommand::parse("a 'b").is_err());
    }
}
