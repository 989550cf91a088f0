// The records-database subcommands of `recsys-data` (records/records_db.h):
//   recsys-data ingest --db records.db FILE...
//   recsys-data months --db records.db
// main() parses the flags; these do the work and print.
#ifndef RECSYS_TRAINING_RECORDS_COMMANDS_H_
#define RECSYS_TRAINING_RECORDS_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace recsys {

// Ingests each file in its own transaction (records/ingest.h) and prints, per
// file, rows read = stored + refused, per month, the first row errors, and
// the speed (rows/s) and the database's size beside the CSV bytes read.
// Progress lines go to `err`. Returns 0 when every file was ingested, 1 when
// one failed (the database is as before for that file; the others are in),
// 2 for a usage error (no --db or no FILE). With `skip_ingested`, a file
// whose bytes (checksum) the database already holds months from is skipped
// with a line saying so, so a monthly job can pass every delivered file each
// time and only new or changed ones are read into the database.
int RunIngestCommand(const std::string& db, const std::vector<std::string>& files,
                     bool skip_ingested, std::ostream& out, std::ostream& err);

// Prints the months held: rows, customers, products added, refused rows,
// rows with field errors, ingest time and file. Returns 0, or 1 when the
// database cannot be read, 2 without --db.
int RunMonthsCommand(const std::string& db, std::ostream& out,
                     std::ostream& err);

}  // namespace recsys

#endif  // RECSYS_TRAINING_RECORDS_COMMANDS_H_
