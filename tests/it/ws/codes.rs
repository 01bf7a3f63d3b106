//! The protocol's codes are the ones docs/websocket.md documents for clients: a code added,
//! renamed or dropped on one side only fails here.

use std::collections::BTreeSet;

use taskpulse_live::{CloseCode, ErrorCode};

fn websocket_doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/websocket.md");
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// The first cells of the table under the line that starts with `header`.
fn first_cells(doc: &str, header: &str) -> BTreeSet<String> {
    doc.lines()
        .skip_while(|line| !line.starts_with(header))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.split('|').nth(1))
        .map(|cell| cell.trim().trim_matches('`').to_owned())
        .collect()
}

#[test]
fn every_error_code_is_documented_and_every_documented_one_is_sent() {
    let documented = first_cells(&websocket_doc(), "| `error` code |");
    let sent: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(sent, documented);
}

#[test]
fn every_close_code_the_server_sends_is_documented() {
    let documented = first_cells(&websocket_doc(), "| code | reason text |");
    for code in CloseCode::ALL {
        let number = code.as_u16().to_string();
        assert!(
            documented.contains(&number),
            "{code:?} ({number}) is not in the table"
        );
    }
}
