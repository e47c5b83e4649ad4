#include "input/users_file.h"

#include <fmt/format.h>

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
};

// RFC 4180 as PowerShell writes it: quoted fields, doubled quotes, CRLF or LF, newlines inside
// quotes. Strict where leniency would guess: a stray quote is an error, not data.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, std::string_view path, char delim,
                                        unsigned long first_line) {
  std::vector<CsvRecord> records;
  size_t i = 0;
  unsigned long line = first_line;
  const size_t n = text.size();
  while (i < n) {
    CsvRecord rec{line, {}};
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
          return Status::InvalidInput(fmt::format(
              "{}:{}: field {}: unexpected text after the closing quote", path, line, column));
        }
      } else {
        while (i < n && text[i] != delim && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') {
            return Status::InvalidInput(
                fmt::format("{}:{}: field {}: a quote inside an unquoted field (quote the field "
                            "and double the quote)",
                            path, line, rec.fields.size() + 1));
          }
          field += text[i++];
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
          return Status::InvalidInput(
              fmt::format("{}:{}: a lone carriage return outside quotes", path, line));
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
  std::string_view header_line = text.substr(0, text.find('\n'));
  bool header_has_semicolons = header_line.find(';') != std::string_view::npos;
  bool semicolons_detected =
      delimiter == ',' && header_has_semicolons && header_line.find(',') == std::string_view::npos;
  if (semicolons_detected) delimiter = ';';
  auto records = ParseCsv(text, path, delimiter, first_line);
  if (!records.ok() && (semicolons_detected || (delimiter != ';' && header_has_semicolons))) {
    return Status::InvalidInput(fmt::format(
        "{} ({}; set csv-delimiter in the config or pass --csv-delimiter for another separator)",
        records.status().message(),
        semicolons_detected ? "read as separated by ';', as its header is"
                            : "the header has ';': a file separated by ';' needs csv-delimiter"));
  }
  if (!records.ok()) return records.status();
  if (records->empty())
    return Status::InvalidInput(fmt::format("{}: the file has no header line", path));

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
        fmt::format("{}:{}: no identity column; the header needs one of: {}", path, header.line,
                    Join(names, ", ")));
  }
  auto column_of = [&](std::string_view name) -> std::optional<size_t> {
    auto it = columns.find(name);
    if (it == columns.end()) return std::nullopt;
    return it->second;
  };
  auto db_col = column_of("TargetDatabase");
  auto cleanup_col = column_of("SourceMailboxCleanupOptions");
  auto ou_col = column_of("NTAccountOU");
  auto start_col = column_of("StartAfter");
  auto complete_col = column_of("CompleteAfter");

  std::map<std::string, unsigned long, ILess> seen;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    auto problem = [&](std::string field, std::string message) {
      problems.push_back({file.path, rec.line, std::move(field), std::move(message)});
    };
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
    if (row_ok) file.rows.push_back(std::move(row));
  }
  if (records->size() == 1) {
    problems.push_back({file.path, header.line, "", "the file lists no mailboxes (only a header)"});
  }
  return file;
}

Result<UsersFile> ReadUsersFile(const std::string& path, char delimiter, Problems& problems) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok())
    return Status::InvalidInput(
        fmt::format("cannot read the users file: {}", bytes.status().message()));
  return ParseUsersFile(*bytes, path, delimiter, problems);
}

}  // namespace cm
