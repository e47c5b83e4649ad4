#include "app/export.h"

#include <fmt/format.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "app/value_format.h"
#include "core/dn.h"
#include "core/strings.h"

namespace cm {

namespace {

struct Column {
  std::string name;
  std::function<Values(const Entry&)> values;
  // Joined with the separator, each value escaped (`\;`, `\\`) so it splits back; a
  // single-valued column is written as it is, as Export-Csv does, so an identity column reads
  // back as the same identity.
  bool multi_valued = true;
};

std::vector<Column> ExchangeColumns(const AttributeProfile& p) {
  auto attr = [](std::string a) { return [a](const Entry& e) { return e.Get(a); }; };
  std::vector<Column> columns = {
      {"Identity", [](const Entry& e) { return Values{CanonicalName(e.dn())}; }},
      {"DistinguishedName", [](const Entry& e) { return Values{e.dn()}; }},
      {"Name", attr(p.cn)},
      {"DisplayName", attr(p.display_name)},
      {"Alias", attr(p.mail_nickname)},
      {"PrimarySmtpAddress",
       [&p](const Entry& e) {
         std::string s = Recipient(e, p).primary_smtp();
         return s.empty() ? Values{} : Values{s};
       }},
      {"SamAccountName", attr(p.sam_account_name)},
      {"UserPrincipalName", attr(p.user_principal_name)},
      {"ExchangeGuid",
       [&p](const Entry& e) {
         Values v;
         for (const auto& g : e.Get(p.mailbox_guid)) v.push_back(DisplayValue(p.mailbox_guid, g));
         return v;
       }},
      {"LegacyExchangeDN", attr(p.legacy_dn)},
      {"RecipientTypeDetails",
       [&p](const Entry& e) {
         auto t = Recipient(e, p).type_details();
         return t ? Values{RecipientTypeName(*t)}
                  : Values{std::string(ToString(Recipient(e, p).kind()))};
       }},
      {"Database", attr(p.home_mdb)},
      {"EmailAddresses", attr(p.proxy_addresses)},
  };
  for (auto& c : columns) c.multi_valued = c.name == "EmailAddresses";
  return columns;
}

std::string EscapeForJoin(std::string_view v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' || v.substr(i, sep.size()) == sep) out += '\\';
    out += v[i];
  }
  return out;
}

std::string CsvQuote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::vector<std::string> SplitMultiValued(std::string_view cell, std::string_view sep) {
  std::vector<std::string> out;
  if (cell.empty()) return out;
  std::string current;
  for (size_t i = 0; i < cell.size(); ++i) {
    if (cell[i] == '\\' && i + 1 < cell.size()) {
      current += cell[++i];
    } else if (cell.substr(i, sep.size()) == sep) {
      out.push_back(std::move(current));
      current.clear();
      i += sep.size() - 1;
    } else {
      current += cell[i];
    }
  }
  out.push_back(std::move(current));
  return out;
}

std::string ExportCsv(const std::vector<Entry>& entries, const AttributeProfile& profile,
                      std::string_view sep) {
  std::vector<Column> columns = ExchangeColumns(profile);
  // Then every other attribute any exported object holds, by its LDAP name, in first-seen order.
  std::vector<std::string> covered = {profile.cn,
                                      profile.display_name,
                                      profile.mail_nickname,
                                      profile.sam_account_name,
                                      profile.user_principal_name,
                                      profile.mailbox_guid,
                                      profile.legacy_dn,
                                      profile.home_mdb,
                                      profile.proxy_addresses};
  std::vector<std::string> extra;
  for (const Entry& e : entries) {
    for (const auto& [name, values] : e.attributes()) {
      bool known = false;
      for (const auto& c : covered) known |= IEquals(c, name);
      // AD's `name` and `distinguishedName` are what the Name and DistinguishedName columns
      // show; a second column of the same name would make the file unreadable as a users file.
      for (const auto& c : columns) known |= IEquals(c.name, name);
      for (const auto& x : extra) known |= IEquals(x, name);
      if (!known) extra.push_back(name);
    }
  }
  for (const auto& name : extra) {
    columns.push_back({name, [name](const Entry& e) {
                         Values v;
                         for (const auto& raw : e.Get(name)) v.push_back(DisplayValue(name, raw));
                         return v;
                       }});
  }
  std::string out = "#TYPE crossmove.Recipient\r\n";
  std::vector<std::string> header;
  for (const auto& c : columns) header.push_back(CsvQuote(c.name));
  out += Join(header, ",") + "\r\n";
  for (const Entry& e : entries) {
    std::vector<std::string> cells;
    for (const auto& c : columns) {
      std::vector<std::string> parts;
      for (const auto& v : c.values(e)) parts.push_back(c.multi_valued ? EscapeForJoin(v, sep) : v);
      cells.push_back(CsvQuote(Join(parts, sep)));
    }
    out += Join(cells, ",") + "\r\n";
  }
  return out;
}

std::string ExportJson(const std::vector<Entry>& entries, const AttributeProfile& profile) {
  nlohmann::json arr = nlohmann::json::array();
  std::vector<Column> columns = ExchangeColumns(profile);
  for (const Entry& e : entries) {
    nlohmann::json obj;
    for (const auto& c : columns) {
      Values v = c.values(e);
      if (c.name == "EmailAddresses") {
        obj[c.name] = v;
      } else {
        obj[c.name] = v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.front());
      }
    }
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& [name, values] : e.attributes()) {
      nlohmann::json vals = nlohmann::json::array();
      for (const auto& v : values) vals.push_back(DisplayValue(name, v));
      attrs[name] = vals;
    }
    obj["Attributes"] = attrs;
    arr.push_back(obj);
  }
  return arr.dump(2) + "\n";
}

}  // namespace cm
