// End-to-end: the progress of the long jobs (issue 15) as an operator sees
// it. recsys-data generate, recsys-train and recsys score run as programs,
// with stderr redirected to a file (a log, a Kubernetes Job): periodic plain
// lines with a total and an ETA; and on a pseudo-terminal: one line redrawn
// in place.
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/fake_recommender.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The lines of `text` that match `pattern` (a whole-line ECMAScript regex).
std::vector<std::string> Matching(const std::string& text,
                                  const std::string& pattern) {
  const std::regex re(pattern);
  std::vector<std::string> out;
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(text, '\n'))) {
    if (std::regex_match(line, re)) out.push_back(line);
  }
  return out;
}

// A periodic progress line: "[progress] PHASE: D/T ... (P%) ... ETA M:SS".
constexpr char kPeriodic[] =
    R"(\[progress\] .*: .*[0-9]+/[0-9.]+ .*\([0-9.]+%\).*elapsed [0-9:]+  ETA [0-9]+:[0-9][0-9].*)";

class ProgressE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::path(::testing::TempDir()) /
                        absl::StrCat("progress_e2e_test_", ::getpid()));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  // Runs `command` in the test folder with stderr to `stderr_file`; returns
  // the exit status.
  static int Run(const std::string& command, const std::string& stderr_file) {
    const std::string line =
        absl::StrCat("cd '", dir_->string(), "' && ", command, " >/dev/null 2>'",
                     (*dir_ / stderr_file).string(), "'");
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Generated data in DIR/data (once).
  static void Generate() {
    if (fs::exists(*dir_ / "data" / "train_ver2.csv")) return;
    ASSERT_EQ(Run(absl::StrCat(RECSYS_BIN_DIR,
                               "/recsys-data generate --customers 400 --seed 3 "
                               "--out data --progress_seconds 0"),
                  "generate.err"),
              0)
        << ReadAll(*dir_ / "generate.err");
  }

  static std::string TrainArgs(const std::string& progress_seconds) {
    return absl::StrCat(RECSYS_BIN_DIR,
                        "/recsys-train --data data --dry-run --max-rounds 6 "
                        "--nthread 2 --progress-seconds ",
                        progress_seconds);
  }

  static fs::path* dir_;
};

fs::path* ProgressE2eTest::dir_ = nullptr;

TEST_F(ProgressE2eTest, GenerateWritesProgressLinesToALog) {
  Generate();
  const std::string log = ReadAll(*dir_ / "generate.err");
  EXPECT_THAT(Matching(log, R"(\[progress\] generate: [0-9]+/7200 customer-months .*ETA.*)"),
              Not(::testing::IsEmpty()))
      << log;
  EXPECT_THAT(log, HasSubstr("[progress] generate: done, 7200 customer-months"));
}

TEST_F(ProgressE2eTest, TrainWritesPeriodicLinesWithTotalAndEtaForEveryPhase) {
  Generate();
  // Every update is past the tiny interval: at least one line per round.
  ASSERT_EQ(Run(TrainArgs("0.0001"), "train.err"), 0)
      << ReadAll(*dir_ / "train.err");
  const std::string log = ReadAll(*dir_ / "train.err");
  EXPECT_THAT(Matching(log, kPeriodic), Not(::testing::IsEmpty())) << log;
  EXPECT_THAT(
      Matching(log, R"(\[progress\] validation: round [1-6]/6 \(.*ETA [0-9:]+)"),
      Not(::testing::IsEmpty()))
      << log;
  // The retrain phase, silent before, has its own progress.
  EXPECT_THAT(
      Matching(log, R"(\[progress\] final retrain: round [1-6]/[1-6] \(.*ETA [0-9:]+)"),
      Not(::testing::IsEmpty()))
      << log;
  EXPECT_THAT(log, HasSubstr("[progress] pass 1/2: vocabularies: done,"));
  EXPECT_THAT(log, HasSubstr("[progress] pass 2/2: features: done,"));
  EXPECT_THAT(log, HasSubstr("[progress] final retrain: done,"));
  // No terminal control characters in a log.
  EXPECT_THAT(log, Not(HasSubstr("\r")));
}

TEST_F(ProgressE2eTest, TrainWithANegativeIntervalWritesNoProgressLines) {
  Generate();
  ASSERT_EQ(Run(TrainArgs("-1"), "quiet.err"), 0)
      << ReadAll(*dir_ / "quiet.err");
  const std::string log = ReadAll(*dir_ / "quiet.err");
  EXPECT_THAT(log, Not(HasSubstr("[progress]")));
  EXPECT_THAT(log, HasSubstr("best number of rounds"));
}

// Runs `command` (a shell command line, in the test folder) with stdout and
// stderr on a pseudo-terminal; returns everything it wrote there.
std::string RunOnTerminal(const fs::path& dir, const std::string& command) {
  int master = -1;
  struct winsize size = {};
  size.ws_row = 40;
  size.ws_col = 200;
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) return "forkpty failed";
  if (pid == 0) {
    const std::string line = absl::StrCat("cd '", dir.string(), "' && exec ", command);
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string out;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(master, buffer, sizeof(buffer));
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO once the child closed its side
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out += "\n(exit status was not 0)";
  }
  return out;
}

TEST_F(ProgressE2eTest, TrainOnATerminalRedrawsOneLineInPlace) {
  Generate();
  const std::string screen = RunOnTerminal(*dir_, TrainArgs("10"));
  EXPECT_THAT(screen, Not(HasSubstr("exit status was not 0"))) << screen;
  // The first update of a phase is drawn at once: "\r" + erase-line, then
  // the line, no line end.
  EXPECT_TRUE(std::regex_search(
      screen, std::regex("\r\x1b\\[Kvalidation: round [1-6]/6 \\([0-9.]+%\\)"
                         "[^\n]*ETA [0-9]+:[0-9][0-9]")))
      << screen;
  EXPECT_TRUE(std::regex_search(
      screen, std::regex("\r\x1b\\[Kfinal retrain: round [1-6]/[1-6] ")))
      << screen;
  // A phase ends with its done line; no plain "[progress]" lines.
  EXPECT_THAT(screen, HasSubstr("validation: done, "));
  EXPECT_THAT(screen, Not(HasSubstr("[progress]")));
}

std::string TestFile(int rows) {
  std::string text =
      "fecha_dato,ncodpers,ind_empleado,pais_residencia,sexo,age,fecha_alta,"
      "ind_nuevo,antiguedad,indrel,ult_fec_cli_1t,indrel_1mes,tiprel_1mes,"
      "indresi,indext,conyuemp,canal_entrada,indfall,tipodom,cod_prov,"
      "nomprov,ind_actividad_cliente,renta,segmento\n";
  for (int i = 0; i < rows; ++i) {
    absl::StrAppend(&text, "2016-06-28,", 1000 + i,
                    ",N,ES,H,35,2015-01-12,0,6,1,,1,A,S,N,,KHE,N,1,29,MALAGA,"
                    "1,87218.1,02 - PARTICULARES\n");
  }
  return text;
}

TEST_F(ProgressE2eTest, ScoreWritesPeriodicLinesWithTotalAndEta) {
  // The first stream breaks after 300 rows: the client waits its 0.2 s
  // backoff and resumes, so the run spans many 10 ms progress intervals.
  FakeRecommenderOptions fake;
  fake.failing_streams = 1;
  fake.answers_before_failure = 300;
  auto server = FakeRecommenderServer::Start(fake);
  ASSERT_TRUE(server.ok()) << server.status();
  std::ofstream(*dir_ / "test.csv") << TestFile(2000);
  ASSERT_EQ(Run(absl::StrCat(RECSYS_BIN_DIR, "/recsys score --server ",
                             (*server)->address(),
                             " --input test.csv --output submission.csv "
                             "--progress-seconds 0.01"),
                "score.err"),
            0)
      << ReadAll(*dir_ / "score.err");
  const std::string log = ReadAll(*dir_ / "score.err");
  const std::vector<std::string> lines = Matching(
      log, R"(\[progress\] score: [0-9.]+/0\.[0-9] MB \(.*ETA [0-9:]+  [0-9]+ rows .*)");
  EXPECT_GE(lines.size(), 2u) << log;
  EXPECT_THAT(log, HasSubstr("[progress] score: done, "));
  EXPECT_THAT(log, HasSubstr("2000 rows"));
}

}  // namespace
}  // namespace recsys
