//! A report as CSV: the same rows as its JSON, one line each, streamed in chunks so that a
//! long hourly series is never one large buffer on the wire.

use super::Report;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Rows per streamed chunk.
const CHUNK_ROWS: usize = 500;

/// The columns of a report: every key its rows have, in the order first seen; the nested
/// `filter` is left out (its `href` says the same).
pub fn columns(report: &Report) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for row in &report.rows {
        for k in row.keys() {
            if k != "filter" && !cols.iter().any(|c| c == k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Encodes rows as CSV lines (with the header first when `header` is given).
fn encode(report: &Report, cols: &[String], from: usize, header: bool) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail; a failed record would only mean a dropped line.
    if header {
        let _ = w.write_record(cols);
    }
    for row in report.rows.iter().skip(from).take(CHUNK_ROWS) {
        let _ = w.write_record(cols.iter().map(|c| cell(row.get(c))));
    }
    w.into_inner().unwrap_or_default()
}

/// The report as a streamed `text/csv` download named after it.
pub fn csv_response(report: std::sync::Arc<Report>) -> Response {
    let cols = columns(&report);
    let name = report.report;
    let starts: Vec<usize> = (0..report.rows.len().max(1)).step_by(CHUNK_ROWS).collect();
    let chunks = starts.into_iter().map(move |from| {
        Ok::<_, std::convert::Infallible>(encode(&report, &cols, from, from == 0))
    });
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}
