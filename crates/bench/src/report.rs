//! Figures, and how they are printed: a table for people, one JSON line each for machines.

use serde_json::json;

use crate::Common;

/// The bound a figure must meet.
#[derive(Debug, Clone, Copy)]
pub enum Floor {
    AtLeast(f64),
    AtMost(f64),
}

impl Floor {
    fn met(self, v: f64) -> bool {
        match self {
            Floor::AtLeast(f) => v >= f,
            Floor::AtMost(f) => v <= f,
        }
    }
    fn text(self) -> String {
        match self {
            Floor::AtLeast(f) => format!(">= {}", trim(f)),
            Floor::AtMost(f) => format!("<= {}", trim(f)),
        }
    }
    fn json(self) -> serde_json::Value {
        match self {
            Floor::AtLeast(f) => json!({"min": f}),
            Floor::AtMost(f) => json!({"max": f}),
        }
    }
}

fn trim(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// One measured number.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Dotted, stable name, e.g. `api.audited.calls_per_s`.
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub floor: Option<Floor>,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Self {
        Figure {
            name: name.into(),
            value,
            unit,
            floor: None,
        }
    }
    pub fn floor(mut self, f: Floor) -> Self {
        self.floor = Some(f);
        self
    }
    fn ok(&self) -> Option<bool> {
        self.floor.map(|f| f.met(self.value))
    }
    fn value_text(&self) -> String {
        let v = self.value;
        match self.unit {
            "ms" | "x" => format!("{v:.2}"),
            "%" | "MB" | "GB" | "s" | "us/call" | "bytes" => format!("{v:.1}"),
            _ => group(v.round() as i64),
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The figures of one benchmark, and what went wrong in it.
#[derive(Debug, Default)]
pub struct Section {
    pub title: String,
    pub figures: Vec<Figure>,
    /// Wrong answers (non-200s, lost records): these fail the run.
    pub failures: Vec<String>,
    /// Context worth printing under the table.
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(title: &str) -> Self {
        Section {
            title: title.into(),
            ..Default::default()
        }
    }

    pub fn push(&mut self, f: Figure) {
        eprintln!(
            "  {} = {} {}",
            f.name,
            f.value_text(),
            if f.unit == "count" { "" } else { f.unit }
        );
        self.figures.push(f);
    }

    pub fn correct(&self) -> bool {
        self.failures.is_empty()
    }

    pub fn print(&self) {
        let width = self
            .figures
            .iter()
            .map(|f| f.name.len())
            .max()
            .unwrap_or(10)
            .max(10);
        println!();
        println!("== {} ==", self.title);
        println!(
            "{:<width$}  {:>14}  {:<9}  {:<10}  result",
            "figure", "value", "unit", "floor"
        );
        for f in &self.figures {
            let result = match f.ok() {
                None => "",
                Some(true) => "ok",
                Some(false) => "MISSED",
            };
            println!(
                "{:<width$}  {:>14}  {:<9}  {:<10}  {}",
                f.name,
                f.value_text(),
                f.unit,
                f.floor.map(Floor::text).unwrap_or_default(),
                result
            );
        }
        for n in &self.notes {
            println!("note: {n}");
        }
        println!(
            "note: load average now {} (other work on the machine shares its CPUs)",
            load_average()
        );
        for e in &self.failures {
            println!("FAILURE: {e}");
        }
        let floors: Vec<bool> = self.figures.iter().filter_map(Figure::ok).collect();
        println!(
            "floors met: {}/{}; answers {}",
            floors.iter().filter(|b| **b).count(),
            floors.len(),
            if self.correct() { "correct" } else { "WRONG" }
        );
        for f in &self.figures {
            let mut line = json!({
                "bench": "billtrail",
                "figure": f.name,
                "value": (f.value * 1000.0).round() / 1000.0,
                "unit": f.unit,
            });
            if let (Some(floor), Some(obj)) = (f.floor, line.as_object_mut()) {
                obj.insert("floor".into(), floor.json());
                obj.insert("ok".into(), json!(floor.met(f.value)));
            }
            println!("{line}");
        }
    }
}

/// What the figures were measured on: printed once, first.
pub fn print_header(common: &Common) {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "billtrail-bench: {cpus} CPUs, load average {}, {}",
        load_average(),
        if common.quick {
            "QUICK run"
        } else {
            "full run"
        }
    );
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
