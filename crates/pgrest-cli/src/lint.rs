//! `pgrest-lambda lint-policies`: reads the `.cedar` files of a directory the way the server
//! loads them (top level only), runs `pgrest_core::policy::lint`, prints text or JSON and maps
//! the result to an exit code: 0 clean or below `--max-severity`, 1 at or above it, 2 usage.
//!
//! Must not hold rule logic (that is core's `policy::lint`) nor decide access.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use pgrest_core::policy::lint::{lint_files, Finding, LintReport, Severity};
use pgrest_core::policy::{DirectorySource, PolicyError, PolicySource};

#[derive(Args, Debug)]
pub(crate) struct LintArgs {
    /// Directory of `.cedar` files (its subdirectories are not read, as at load)
    #[arg(long, default_value = "policies")]
    path: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 1 when a finding at or above this severity remains (`off`: never)
    #[arg(long, value_enum, default_value_t = Threshold::Error)]
    max_severity: Threshold,
    /// Print only errors (the summary still counts warnings)
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Threshold {
    Error,
    Warn,
    Off,
}

impl Threshold {
    fn fails(self, report: &LintReport) -> bool {
        match self {
            Threshold::Off => false,
            Threshold::Error => report.count(Severity::Error) > 0,
            Threshold::Warn => !report.findings.is_empty(),
        }
    }
}

const USAGE: u8 = 2;

pub(crate) fn run(args: LintArgs) -> ExitCode {
    let files = match read(&args.path) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(USAGE);
        }
    };
    let report = lint_files(&files);
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !args.quiet || f.rule.severity() == Severity::Error)
        .collect();
    match args.format {
        Format::Json => println!("{}", report.to_json(&shown)),
        Format::Text => {
            for f in &shown {
                let file = args.path.join(&f.file);
                println!(
                    "{}:{} {} {} {}: {}",
                    file.display(),
                    f.line,
                    f.rule.severity().as_str(),
                    f.rule.code(),
                    f.rule.name(),
                    f.message
                );
            }
            println!(
                "{} policies scanned, {} errors, {} warnings",
                report.policies_scanned,
                report.count(Severity::Error),
                report.count(Severity::Warn)
            );
        }
    }
    if args.max_severity.fails(&report) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The directory's `.cedar` files; a missing directory or one without any is a usage error.
fn read(path: &std::path::Path) -> Result<Vec<pgrest_core::policy::PolicyFile>, String> {
    if !path.is_dir() {
        return Err(format!(
            "{} is not a directory (pass --path DIR)",
            path.display()
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let files = runtime
        .block_on(DirectorySource::new(path).files())
        .map_err(|e: PolicyError| e.to_string())?;
    if files.is_empty() {
        return Err(format!("no .cedar files in {}", path.display()));
    }
    Ok(files)
}
