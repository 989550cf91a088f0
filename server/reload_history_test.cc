#include "server/reload_history.h"

#include <string>

#include "gtest/gtest.h"

namespace recsys {
namespace {

ReloadEvent Swap(int64_t version, int64_t previous) {
  ReloadEvent e;
  e.time = absl::FromUnixSeconds(1000 + version);
  e.kind = ReloadEvent::kSwap;
  e.version = version;
  e.previous = previous;
  return e;
}

TEST(ReloadHistoryTest, KeepsTheEventsOldestFirst) {
  ReloadHistory history(4);
  history.Add(Swap(1, 0));
  history.Add(Swap(2, 1));
  std::vector<ReloadEvent> events = history.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].version, 1);
  EXPECT_EQ(events[1].version, 2);
  EXPECT_EQ(events[1].previous, 1);
}

TEST(ReloadHistoryTest, DropsTheOldestBeyondItsCapacity) {
  ReloadHistory history(3);
  for (int v = 1; v <= 5; ++v) history.Add(Swap(v, v - 1));
  std::vector<ReloadEvent> events = history.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.front().version, 3);
  EXPECT_EQ(events.back().version, 5);
}

TEST(ReloadHistoryTest, CutsLongTexts) {
  ReloadHistory history(2);
  ReloadEvent failed;
  failed.kind = ReloadEvent::kFailed;
  failed.text = std::string(5000, 'x');
  history.Add(failed);
  const std::string& text = history.Events()[0].text;
  EXPECT_EQ(text.size(), kMaxReloadText);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
}

TEST(ReloadHistoryTest, NamesTheKinds) {
  EXPECT_EQ(ReloadEvent::KindName(ReloadEvent::kFailed), "failed");
  EXPECT_EQ(ReloadEvent::KindName(ReloadEvent::kSwap), "swap");
}

}  // namespace
}  // namespace recsys
