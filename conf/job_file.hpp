#pragma once
/// Job files (`crawld run JOB.toml`): a TOML file that sets any `crawld crawl` option, parsed and
/// validated into `crawl_options`. Schema and keys: docs/job-file.md. Plain code, no CAF; the TOML
/// library is an implementation detail of job_file.cpp (this header does not include it).
#include <string>
#include <string_view>
#include <vector>

#include "conf/crawl_options.hpp"

namespace crawld::conf {

/// One problem in a job file. `line`/`column` are 1-based; 0 means "the file as a whole" (e.g. a
/// cross-option check of `validate` that no single key can be blamed for, or an unreadable file).
struct job_error {
  std::string file;
  int line = 0, column = 0;
  std::string message;
};

/// "file:line:column: message", or "file: message" when the error has no position.
std::string to_string(const job_error& e);

/// What loading a job file produced. `options` is only meaningful when `ok()`.
struct job_load {
  std::string name;         ///< the job's top-level `name` ("" when absent)
  crawl_options options;    ///< crawl_options' defaults, overridden by every key the file sets
  std::vector<job_error> errors;  ///< every error found, sorted by position (positionless last)
  bool ok() const { return errors.empty(); }
};

/// Parses and validates a job file into crawl options (defaults = crawl_options' defaults).
/// Every error found is reported, not just the first (a TOML syntax error stops parsing, so it is
/// reported alone), each with file:line:column. Unknown keys and tables, wrong types, values
/// `validate` rejects, bad include/exclude regexes and bad seed URLs are errors. An empty `seeds`
/// is not an error here (seeds may come from the command line): the caller runs `validate` on the
/// final options, which reports "no seed URL given". `user_agent` stays "" when absent (the caller
/// fills in crawld/<version>). Never throws.
///
/// `overrides` (`crawld run --set`) change the file before it is checked, each
/// "TABLE.KEY=VALUE" (or "name=VALUE") with VALUE in TOML syntax; a VALUE that is not valid TOML
/// is taken as a string (`crawl.db=/tmp/x`). A table value merges into the file's table; any
/// other value (arrays included) replaces the file's. Errors in an override are reported with the
/// override as the file name (`--set crawl.max_pagez=3:1:7: unknown key ...`).
job_load load_job(const std::string& path, const std::vector<std::string>& overrides = {});

/// As `load_job`, for a job file's text; `name` is the file name used in errors.
job_load load_job_string(std::string_view text, const std::string& name,
                         const std::vector<std::string>& overrides = {});

}  // namespace crawld::conf
