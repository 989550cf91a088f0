// `recsys score`: a whole raw file through RecommendStream.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "client/batch_scorer.h"
#include "client/cli/commands.h"
#include "common/raw_reader.h"

namespace recsys {
namespace {

// Draws "[#######.....]  52.1%  484233 rows  21443 rows/s  12 failed" on one
// terminal line, redrawn in place.
class ProgressBar {
 public:
  ProgressBar(std::ostream* err, int64_t total_bytes)
      : err_(err), total_bytes_(total_bytes), start_(absl::Now()) {}

  void Draw(const BatchProgress& p) {
    absl::MutexLock lock(&mu_);
    constexpr int kWidth = 30;
    const double fraction =
        total_bytes_ > 0
            ? std::min(1.0, static_cast<double>(p.bytes_read) / total_bytes_)
            : 0.0;
    const int filled = static_cast<int>(fraction * kWidth);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    const int64_t done = p.rows_scored + p.rows_failed;
    std::string line =
        absl::StrFormat("\r[%s%s] %5.1f%%  %d rows  %.0f rows/s  %d failed",
                        std::string(filled, '#'),
                        std::string(kWidth - filled, '.'), 100 * fraction, done,
                        seconds > 0 ? done / seconds : 0.0, p.rows_failed);
    if (p.retries > 0) absl::StrAppend(&line, "  ", p.retries, " retries");
    *err_ << line << "   " << std::flush;
    drawn_ = true;
  }

  // Ends the bar's line so that what follows starts on a new one.
  void Finish() {
    absl::MutexLock lock(&mu_);
    if (drawn_) *err_ << "\n";
  }

 private:
  std::ostream* const err_;
  const int64_t total_bytes_;
  const absl::Time start_;
  absl::Mutex mu_;
  bool drawn_ ABSL_GUARDED_BY(mu_) = false;
};

std::string DefaultErrorsPath(absl::string_view output) {
  absl::string_view stem = output;
  absl::ConsumeSuffix(&stem, ".csv");
  return absl::StrCat(stem, ".errors.csv");
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
  ProgressBar bar(&err, size_error ? 0 : static_cast<int64_t>(input_bytes));
  BatchScoreOptions batch = options.batch;
  if (options.progress_bar)
    batch.on_progress = [&bar](const BatchProgress& p) { bar.Draw(p); };
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
  std::ofstream errors(errors_path, std::ios::binary | std::ios::trunc);
  if (!submission || !errors) {
    err << "recsys score: cannot write "
        << (!submission ? options.output : errors_path) << "\n";
    return kExitUsage;
  }
  absl::StatusOr<BatchScoreSummary> summary =
      (*scorer)->Run(reader->get(), &submission, &errors);
  bar.Finish();
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
