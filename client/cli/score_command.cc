// `recsys score`: a whole raw file through RecommendStream.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "client/batch_scorer.h"
#include "client/cli/commands.h"
#include "common/progress.h"
#include "common/raw_reader.h"

namespace recsys {
namespace {

std::string DefaultErrorsPath(absl::string_view output) {
  absl::string_view stem = output;
  absl::ConsumeSuffix(&stem, ".csv");
  return absl::StrCat(stem, ".errors.csv");
}

// "484233 rows (21443 rows/s)  12 failed  3 retries" for the progress line.
std::string ScoreProgressDetail(const BatchProgress& p, absl::Time start) {
  const int64_t done = p.rows_scored + p.rows_failed;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::string detail =
      absl::StrFormat("%d rows (%.0f rows/s)  %d failed", done,
                      seconds > 0 ? done / seconds : 0.0, p.rows_failed);
  if (p.retries > 0) absl::StrAppend(&detail, "  ", p.retries, " retries");
  return detail;
}

}  // namespace

int ExitStatusForCallError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
                 status.code() == absl::StatusCode::kDeadlineExceeded
             ? kExitUsage
             : kExitFailed;
}

int RunScore(const ScoreCommandOptions& options, std::ostream& out,
             std::ostream& err) {
  if (options.input.empty() || options.output.empty()) {
    err << "recsys score: --input and --output are required (see recsys score "
           "--help)\n";
    return kExitUsage;
  }
  const std::string errors_path = options.errors.empty()
                                      ? DefaultErrorsPath(options.output)
                                      : options.errors;
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(options.client);
  if (!client.ok()) {
    err << "recsys score: " << client.status().message() << "\n";
    return kExitUsage;
  }
  std::error_code size_error;
  const auto input_bytes =
      std::filesystem::file_size(options.input, size_error);
  const int64_t total_bytes =
      size_error ? 0 : static_cast<int64_t>(input_bytes);
  BatchScoreOptions batch = options.batch;
  std::optional<Progress> progress;
  const absl::Time start = absl::Now();
  if (options.progress.has_value()) {
    ProgressOptions progress_options = *options.progress;
    progress_options.out = &err;
    progress.emplace(progress_options);
    // Progress comes from the scorer no more often than the lines need it.
    if (progress_options.interval >= absl::ZeroDuration()) {
      batch.progress_interval =
          std::min(batch.progress_interval,
                   std::max(progress_options.interval, absl::Milliseconds(1)));
    }
    batch.on_progress = [&progress, start](const BatchProgress& p) {
      progress->Update(p.bytes_read, ScoreProgressDetail(p, start));
    };
  }
  absl::StatusOr<std::unique_ptr<BatchScorer>> scorer =
      BatchScorer::Create((*client)->recommender_stub(), batch);
  if (!scorer.ok()) {
    err << "recsys score: " << scorer.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<RawReader>> reader =
      RawReader::Open(options.input);
  if (!reader.ok()) {
    err << "recsys score: cannot read " << options.input << ": "
        << reader.status().message() << "\n";
    return kExitUsage;
  }
  if (absl::Status connected =
          (*client)->WaitForConnected(options.connect_timeout);
      !connected.ok()) {
    err << "recsys score: " << connected.message() << "\n";
    return kExitUsage;
  }
  std::ofstream submission(options.output, std::ios::binary | std::ios::trunc);
  const int submission_errno = errno;
  std::ofstream errors(errors_path, std::ios::binary | std::ios::trunc);
  const int errors_errno = errno;
  if (!submission || !errors) {
    err << "recsys score: cannot write "
        << (!submission ? options.output : errors_path) << ": "
        << std::strerror(!submission ? submission_errno : errors_errno)
        << "\n";
    return kExitUsage;
  }
  if (progress.has_value()) progress->Start("score", total_bytes, "bytes");
  absl::StatusOr<BatchScoreSummary> summary =
      (*scorer)->Run(reader->get(), &submission, &errors);
  if (progress.has_value()) {
    if (summary.ok()) {
      BatchProgress last;
      last.bytes_read = total_bytes;
      last.rows_scored = summary->rows_scored;
      last.rows_failed = summary->rows_failed();
      last.retries = summary->retries;
      progress->Update(total_bytes, ScoreProgressDetail(last, start));
    }
    progress->Finish();
  }
  if (!summary.ok()) {
    err << "recsys score: " << summary.status().message() << "\n";
    return kExitFailed;
  }
  err << "recsys score: " << summary->ToString() << "\n";
  if (!summary->input_status.ok()) {
    // The rows after the error were never read: they are in neither file.
    err << "recsys score: reading " << options.input
        << " failed: " << summary->input_status.message()
        << "; the rows after it were not read\n";
    return kExitUsage;
  }
  out << "submission: " << options.output << " (" << summary->rows_scored
      << " rows)\n"
      << "errors:     " << errors_path << " (" << summary->rows_failed()
      << " rows)\n";
  return summary->all_scored() ? kExitOk : kExitFailed;
}

}  // namespace recsys
