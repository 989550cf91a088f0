#include "records/sqlite.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/records_test_util.h"

namespace recsys {
namespace {

using ::recsys::testing::TempDir;
using ::recsys::testing::WriteText;
using ::testing::HasSubstr;

TEST(SqliteTest, RoundTripsValuesThroughPreparedStatements) {
  TempDir dir;
  auto db = SqliteDb::Open(dir.File("t.db"), {});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(i INTEGER, d REAL, s TEXT)").ok());
  auto insert = (*db)->Prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(insert.ok());
  insert->BindInt64(1, -7);
  insert->BindDouble(2, 0.5);
  insert->BindText(3, "");
  ASSERT_TRUE(insert->Run().ok());
  insert->BindNull(3);
  ASSERT_TRUE(insert->Run().ok());
  auto query = (*db)->Prepare("SELECT i, d, s, s IS NULL FROM t ORDER BY rowid");
  ASSERT_TRUE(query.ok());
  ASSERT_TRUE(*query->Step());
  EXPECT_EQ(query->ColumnInt64(0), -7);
  EXPECT_EQ(query->ColumnDouble(1), 0.5);
  EXPECT_FALSE(query->ColumnIsNull(2));  // '' is not NULL
  EXPECT_EQ(query->ColumnInt64(3), 0);
  ASSERT_TRUE(*query->Step());
  EXPECT_TRUE(query->ColumnIsNull(2));
  EXPECT_FALSE(*query->Step());
}

TEST(SqliteTest, ErrorsNameTheFileAndMapToStatusCodes) {
  TempDir dir;
  const std::string not_a_db = dir.File("text.db");
  WriteText(not_a_db, std::string(4096, 'x'));
  auto garbage = SqliteDb::Open(not_a_db, {});
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(garbage.status().message(), HasSubstr(not_a_db));

  EXPECT_EQ(SqliteDb::Open(dir.File("none.db"), {.read_only = true}).status().code(),
            absl::StatusCode::kNotFound);

  auto db = SqliteDb::Open(dir.File("t.db"), {});
  ASSERT_TRUE(db.ok());
  auto bad = (*db)->Prepare("SELEC 1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(bad.status().message(), HasSubstr("SELEC 1"));
  ASSERT_TRUE((*db)->Exec("CREATE TABLE u(x PRIMARY KEY)").ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO u VALUES (1)").ok());
  EXPECT_EQ((*db)->Exec("INSERT INTO u VALUES (1)").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteTest, AnUncommittedTransactionRollsBack) {
  TempDir dir;
  auto db = SqliteDb::Open(dir.File("t.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(x)").ok());
  {
    auto transaction = SqliteTransaction::Begin(db->get(), /*write=*/true);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(*(*db)->QueryInt64("SELECT count(*) FROM t"), 0);
  auto transaction = SqliteTransaction::Begin(db->get(), /*write=*/true);
  ASSERT_TRUE(transaction.ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE(transaction->Commit().ok());
  EXPECT_EQ(*(*db)->QueryInt64("SELECT count(*) FROM t"), 1);
}

TEST(SqliteTest, AWriterWaitsForTheBusyTimeoutThenIsUnavailable) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  auto first = SqliteDb::Open(path, {});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x)").ok());
  auto holding = SqliteTransaction::Begin(first->get(), /*write=*/true);
  ASSERT_TRUE(holding.ok());
  auto second = SqliteDb::Open(path, {.busy_timeout = absl::Milliseconds(20)});
  ASSERT_TRUE(second.ok()) << second.status();
  auto waiting = SqliteTransaction::Begin(second->get(), /*write=*/true);
  EXPECT_EQ(waiting.status().code(), absl::StatusCode::kUnavailable);
  // Readers are not blocked by the writer (WAL).
  EXPECT_EQ(*(*second)->QueryInt64("SELECT count(*) FROM t"), 0);
}

}  // namespace
}  // namespace recsys
