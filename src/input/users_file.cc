#include "input/users_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "core/planner.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "input/text_decoding.h"
#include "io/file.h"

namespace cm {

namespace {

struct CsvRecord {
  unsigned long line;
  std::vector<std::string> fields;
  std::string error;  // a syntax error in this record ("field 2: ..."); its fields are partial
};

// RFC 4180 as PowerShell writes it: quoted fields, doubled quotes, CRLF or LF, newlines inside
// quotes. Strict where leniency would guess: a stray quote is an error, not data. A record with
// such an error is kept with the error and the parse goes on at the next line, so every bad row
// of a file is reported at once; only a quote never closed (the rest of the file would be one
// field) ends the file.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, std::string_view path, char delim,
                                        unsigned long first_line) {
  std::vector<CsvRecord> records;
  size_t i = 0;
  unsigned long line = first_line;
  const size_t n = text.size();
  // Skips the rest of the physical line: the record ends there.
  auto give_up_record = [&](CsvRecord& rec, std::string error) {
    rec.error = std::move(error);
    while (i < n && text[i] != '\n') ++i;
    if (i < n) {
      ++i;
      ++line;
    }
  };
  while (i < n) {
    CsvRecord rec{line, {}, ""};
    // A record of only a line break is blank: skip it.
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    while (true) {
      std::string field;
      if (i < n && text[i] == '"') {
        unsigned long quote_line = line;
        size_t column = rec.fields.size() + 1;
        ++i;
        while (true) {
          if (i >= n) {
            return Status::InvalidInput(fmt::format(
                "{}:{}: field {} opens a quote that is never closed", path, quote_line, column));
          }
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (i < n && text[i] != delim && text[i] != '\n' && text[i] != '\r') {
          give_up_record(rec,
                         fmt::format("field {}: unexpected text after the closing quote", column));
          break;
        }
      } else {
        while (i < n && text[i] != delim && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') break;
          field += text[i++];
        }
        if (i < n && text[i] == '"') {
          give_up_record(rec, fmt::format("field {}: a quote inside an unquoted field (quote the "
                                          "field and double the quote)",
                                          rec.fields.size() + 1));
          break;
        }
      }
      rec.fields.push_back(std::move(field));
      if (i < n && text[i] == delim) {
        ++i;
        continue;
      }
      if (i < n && text[i] == '\r') {
        if (i + 1 < n && text[i + 1] == '\n') {
          ++i;
        } else {
          give_up_record(rec, "a lone carriage return outside quotes");
          break;
        }
      }
      if (i < n && text[i] == '\n') {
        ++i;
        ++line;
      }
      break;
    }
    records.push_back(std::move(rec));
  }
  return records;
}

}  // namespace

Result<UsersFile> ParseUsersFile(std::string_view bytes, std::string_view path, char delimiter,
                                 Problems& problems) {
  auto decoded = DecodeText(bytes, path);
  if (!decoded.ok()) return decoded.status();
  std::string_view text = decoded->utf8;
  unsigned long first_line = 1;
  if (text.starts_with("#TYPE") || text.starts_with("#type")) {
    size_t eol = text.find('\n');
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    first_line = 2;
  }
  // Export-Csv -UseCulture (and Excel) in much of Europe separate with ';': a header with ';'
  // and no ',' is such a file, read as it was written (docs/DECISIONS.md).
  // An explicit csv-delimiter is obeyed as it is.
  std::string_view header_line = text.substr(0, text.find('\n'));
  bool header_has_semicolons = header_line.find(';') != std::string_view::npos;
  bool semicolons_detected = delimiter == kDetectDelimiter && header_has_semicolons &&
                             header_line.find(',') == std::string_view::npos;
  if (delimiter == kDetectDelimiter) delimiter = semicolons_detected ? ';' : ',';
  // What to add to a syntax error where the separator may be the cause.
  std::string hint;
  if (semicolons_detected) {
    hint =
        " (read as separated by ';', as its header is; set csv-delimiter in the config or "
        "pass --csv-delimiter for another separator)";
  } else if (delimiter != ';' && header_has_semicolons) {
    hint = fmt::format(
        " (the header has ';' but the file is read as separated by '{}': a file separated by ';' "
        "needs csv-delimiter = \";\")",
        delimiter);
  }
  auto records = ParseCsv(text, path, delimiter, first_line);
  if (!records.ok()) {
    if (hint.empty()) return records.status();
    return Status::InvalidInput(records.status().message() + hint);
  }
  if (records->empty())
    return Status::InvalidInput(fmt::format("{}: the file has no header line", path));
  if (const CsvRecord& header = records->front(); !header.error.empty()) {
    return Status::InvalidInput(
        fmt::format("{}:{}: header: {}{}", path, header.line, header.error, hint));
  }

  UsersFile file;
  file.path = std::string(path);
  const CsvRecord& header = records->front();
  std::map<std::string, size_t, ILess> columns;
  for (size_t c = 0; c < header.fields.size(); ++c) {
    std::string name(Trim(header.fields[c]));
    if (name.empty()) {
      return Status::InvalidInput(
          fmt::format("{}:{}: header column {} has no name", path, header.line, c + 1));
    }
    if (!columns.emplace(name, c).second) {
      return Status::InvalidInput(
          fmt::format("{}:{}: header names column '{}' twice", path, header.line, name));
    }
  }
  size_t identity_index = 0;
  for (auto candidate : kIdentityColumns) {
    auto it = columns.find(candidate);
    if (it != columns.end()) {
      file.identity_column = std::string(candidate);
      identity_index = it->second;
      break;
    }
  }
  if (file.identity_column.empty()) {
    std::vector<std::string> names;
    for (auto c : kIdentityColumns) names.emplace_back(c);
    return Status::InvalidInput(
        fmt::format("{}:{}: no identity column; the header needs one of: {}{}", path, header.line,
                    Join(names, ", "), hint));
  }
  auto column_of = [&](std::string_view name) -> std::optional<size_t> {
    auto it = columns.find(name);
    if (it == columns.end()) return std::nullopt;
    return it->second;
  };
  // A column crossmove reads, mistyped, would be ignored like any other column of an export:
  // a StartAfter read as absent moves the mailbox now. Near misses are problems.
  static const std::vector<std::string> kOverrideColumns = {
      "TargetDatabase", "SourceMailboxCleanupOptions", "NTAccountOU", "StartAfter", "CompleteAfter",
      "Priority"};
  for (const auto& [name, index] : columns) {
    if (std::find(kOverrideColumns.begin(), kOverrideColumns.end(), name) != kOverrideColumns.end())
      continue;
    if (std::string near = NearestOf(name, kOverrideColumns); !near.empty() && !IEquals(near, name))
      problems.push_back({file.path, header.line, fmt::format("header column {}", index + 1),
                          fmt::format("'{}' is not a column crossmove reads; did you mean {}? "
                                      "(rename it, or rename it away if it is not meant)",
                                      name, near)});
  }
  auto db_col = column_of("TargetDatabase");
  auto cleanup_col = column_of("SourceMailboxCleanupOptions");
  auto ou_col = column_of("NTAccountOU");
  auto start_col = column_of("StartAfter");
  auto complete_col = column_of("CompleteAfter");
  auto priority_col = column_of("Priority");

  std::map<std::string, unsigned long, ILess> seen;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    auto problem = [&](std::string field, std::string message) {
      problems.push_back({file.path, rec.line, std::move(field), std::move(message)});
    };
    if (!rec.error.empty()) {
      problem("", rec.error + hint);
      continue;
    }
    if (rec.fields.size() > header.fields.size()) {
      problem("", fmt::format("{} fields, but the header has {} columns", rec.fields.size(),
                              header.fields.size()));
      continue;
    }
    auto cell = [&](size_t c) -> std::string {
      return c < rec.fields.size() ? rec.fields[c] : std::string();
    };
    UsersFileRow row;
    row.line = rec.line;
    row.identity = cell(identity_index);
    if (Trim(row.identity).empty()) {
      problem("column " + file.identity_column, "empty identity");
      continue;
    }
    auto [it, inserted] = seen.emplace(row.identity, rec.line);
    if (!inserted) {
      problem("column " + file.identity_column,
              fmt::format("'{}' is listed again (first on line {})", row.identity, it->second));
      continue;
    }
    bool row_ok = true;
    if (db_col && !Trim(cell(*db_col)).empty())
      row.target_database = std::string(Trim(cell(*db_col)));
    if (ou_col && !Trim(cell(*ou_col)).empty())
      row.nt_account_ou = std::string(Trim(cell(*ou_col)));
    if (cleanup_col && !Trim(cell(*cleanup_col)).empty()) {
      std::string value(Trim(cell(*cleanup_col)));
      auto parsed = ParseCleanupOption(value);
      if (!parsed.ok()) {
        problem("column SourceMailboxCleanupOptions", parsed.status().message());
        row_ok = false;
      } else {
        row.cleanup = std::string(ToString(*parsed));
      }
    }
    for (auto [col, name, out] : {std::tuple{start_col, "StartAfter", &row.start_after},
                                  std::tuple{complete_col, "CompleteAfter", &row.complete_after}}) {
      if (!col || Trim(cell(*col)).empty()) continue;
      auto parsed = ParseIsoTime(cell(*col));
      if (!parsed.ok()) {
        problem(fmt::format("column {}", name), parsed.status().message());
        row_ok = false;
      } else {
        *out = *parsed;
      }
    }
    if (priority_col && !Trim(cell(*priority_col)).empty()) {
      auto parsed = ParseMovePriority(Trim(cell(*priority_col)));
      if (!parsed.ok()) {
        problem("column Priority", parsed.status().message());
        row_ok = false;
      } else {
        row.priority = *parsed;
      }
    }
    if (row_ok) file.rows.push_back(std::move(row));
  }
  if (records->size() == 1) {
    problems.push_back({file.path, header.line, "", "the file lists no mailboxes (only a header)"});
  }
  return file;
}

Result<int> ParseMovePriority(std::string_view text) {
  static const char* kLevels[] = {"Lowest", "Lower",  "Low",     "Normal",
                                  "High",   "Higher", "Highest", "Emergency"};
  for (int i = 0; i < 8; ++i) {
    if (IEquals(text, kLevels[i])) return i;
  }
  return Status::InvalidInput(
      fmt::format("'{}' is not a move priority (Lowest, Lower, Low, Normal, High, Higher, Highest, "
                  "Emergency)",
                  text));
}

Result<UsersFile> ReadUsersFile(const std::string& path, char delimiter, Problems& problems) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok())
    return Status::NotFound(
        fmt::format("cannot read the users file: {}", bytes.status().message()));
  return ParseUsersFile(*bytes, path, delimiter, problems);
}

}  // namespace cm
