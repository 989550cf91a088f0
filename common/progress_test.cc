#include "common/progress.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ProgressState Rounds(int64_t done, int64_t total, double seconds) {
  ProgressState state;
  state.phase = "validation";
  state.unit = "rounds";
  state.done = done;
  state.total = total;
  state.elapsed = absl::Seconds(seconds);
  return state;
}

TEST(FormatProgressTest, RoundsShowDoneTotalRateElapsedAndEta) {
  // 37 rounds in 17.5 s: 2.114 rounds/s; 23 rounds left: 10.9 s.
  EXPECT_EQ(FormatProgress(Rounds(37, 60, 17.5)),
            "validation: round 37/60 (61.7%)  2.1 rounds/s  elapsed 0:17  "
            "ETA 0:10");
}

TEST(FormatProgressTest, BytesAreShownInMegabytesWithTheDetail) {
  ProgressState state;
  state.phase = "score";
  state.unit = "bytes";
  state.done = 52'100'000;
  state.total = 100'000'000;
  state.elapsed = absl::Seconds(26);
  state.detail = "484233 rows  12 failed";
  // 2.004 MB/s; 47.9 MB left: 23.9 s.
  EXPECT_EQ(FormatProgress(state),
            "score: 52.1/100.0 MB (52.1%)  2.0 MB/s  elapsed 0:26  ETA 0:23  "
            "484233 rows  12 failed");
}

TEST(FormatProgressTest, UnknownTotalHasNoPercentageAndNoEta) {
  ProgressState state;
  state.phase = "read";
  state.unit = "rows";
  state.done = 5000;
  state.elapsed = absl::Seconds(2);
  EXPECT_EQ(FormatProgress(state), "read: 5000 rows  2500 rows/s  elapsed 0:02");
}

TEST(FormatProgressTest, NothingDoneYetHasNoRateAndNoEta) {
  EXPECT_EQ(FormatProgress(Rounds(0, 60, 0)),
            "validation: round 0/60 (0.0%)  elapsed 0:00");
}

TEST(FormatProgressTest, DoneLineGivesCountTimeAndRate) {
  EXPECT_EQ(FormatProgressDone(Rounds(45, 60, 21)),
            "validation: done, 45 rounds in 0:21 (2.1 rounds/s)");
}

TEST(FormatClockTest, MinutesAndHours) {
  EXPECT_EQ(FormatClock(absl::Seconds(7)), "0:07");
  EXPECT_EQ(FormatClock(absl::Seconds(723)), "12:03");
  EXPECT_EQ(FormatClock(absl::Seconds(3723)), "1:02:03");
  EXPECT_EQ(FormatClock(absl::Seconds(-3)), "0:00");
}

// A Progress writing to a string, on a clock the test moves.
class ProgressTest : public ::testing::Test {
 protected:
  ProgressOptions Options(bool terminal, absl::Duration interval) {
    ProgressOptions options;
    options.out = &out_;
    options.terminal = terminal;
    options.interval = interval;
    options.now = [this] { return now_; };
    return options;
  }
  void Advance(double seconds) { now_ += absl::Seconds(seconds); }
  std::vector<std::string> Lines() const {
    return absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  }

  std::ostringstream out_;
  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
};

TEST_F(ProgressTest, PlainFormWritesOneLinePerIntervalAndADoneLine) {
  Progress progress(Options(false, absl::Seconds(10)));
  progress.Start("final retrain", 60, "rounds");
  for (int round = 1; round <= 30; ++round) {
    Advance(1);  // one round a second: lines at 10 s, 20 s and 30 s
    progress.Update(round);
  }
  progress.Finish();
  EXPECT_THAT(
      Lines(),
      ElementsAre(
          "[progress] final retrain: round 10/60 (16.7%)  1.0 rounds/s  "
          "elapsed 0:10  ETA 0:50",
          "[progress] final retrain: round 20/60 (33.3%)  1.0 rounds/s  "
          "elapsed 0:20  ETA 0:40",
          "[progress] final retrain: round 30/60 (50.0%)  1.0 rounds/s  "
          "elapsed 0:30  ETA 0:30",
          "[progress] final retrain: done, 30 rounds in 0:30 (1.0 rounds/s)"));
}

TEST_F(ProgressTest, PlainFormWithNegativeIntervalWritesOnlyLogLines) {
  Progress progress(Options(false, absl::Seconds(-1)));
  progress.Start("score", 100, "rows");
  Advance(100);
  progress.Update(50);
  progress.Log("a log line");
  progress.Finish();
  EXPECT_THAT(Lines(), ElementsAre("a log line"));
}

TEST_F(ProgressTest, StartingANewPhaseFinishesThePreviousOne) {
  Progress progress(Options(false, absl::Seconds(10)));
  progress.Start("grid 1/2", 5, "rounds");
  Advance(2);
  progress.Update(5);
  progress.Start("grid 2/2", 5, "rounds");
  EXPECT_THAT(Lines(), ElementsAre("[progress] grid 1/2: done, 5 rounds in "
                                   "0:02 (2.5 rounds/s)"));
}

TEST_F(ProgressTest, TerminalFormRewritesOneLineAndLogsAboveIt) {
  Progress progress(Options(true, absl::Seconds(10)));
  progress.Start("validation", 60, "rounds");
  Advance(1);
  progress.Update(1);    // drawn: the first update of a phase
  Advance(0.1);
  progress.Update(2);    // not drawn: within 0.2 s of the last draw
  Advance(0.2);
  progress.Update(3);    // drawn in place of the first
  progress.Log("note");  // clears the line, writes the note
  progress.Finish();
  EXPECT_EQ(out_.str(),
            "\r\033[Kvalidation: round 1/60 (1.7%)  1.0 rounds/s  elapsed "
            "0:01  ETA 0:59"
            "\r\033[Kvalidation: round 3/60 (5.0%)  2.3 rounds/s  elapsed "
            "0:01  ETA 0:24"
            "\r\033[Knote\n"
            "validation: done, 3 rounds in 0:01 (2.3 rounds/s)\n");
}

TEST_F(ProgressTest, UpdatesOutsideAPhaseAreIgnored) {
  Progress progress(Options(false, absl::ZeroDuration()));
  progress.Update(5);
  progress.Finish();
  EXPECT_EQ(out_.str(), "");
  progress.Start("score", 0, "rows");
  progress.Update(5, "1 failed");
  EXPECT_THAT(out_.str(), HasSubstr("score: 5 rows  elapsed 0:00  1 failed"));
}

}  // namespace
}  // namespace recsys
