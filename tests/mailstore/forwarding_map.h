// A MessageMap that hands every call to another: tests derive from it to fail or die at a
// chosen call.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mailstore/copy_engine.h"

namespace cm::testing {

class ForwardingMap : public MessageMap {
 public:
  explicit ForwardingMap(MessageMap& real) : real_(real) {}
  Result<std::map<std::string, Entry>> Load(const std::string& f) override { return real_.Load(f); }
  Status Copied(const std::string& f, const std::string& k, const std::string& tf,
                const std::string& tk, uint64_t s, const std::string& d, bool a) override {
    return real_.Copied(f, k, tf, tk, s, d, a);
  }
  Status Gone(const std::string& f, const std::string& k) override { return real_.Gone(f, k); }
  Status Repair(const std::string& f, const std::string& k, const std::string& r) override {
    return real_.Repair(f, k, r);
  }
  Status Refused(const std::string& f, const std::string& k, const std::string& r) override {
    return real_.Refused(f, k, r);
  }
  Status Foreign(const std::string& f, const std::string& k) override {
    return real_.Foreign(f, k);
  }
  Result<std::string> FolderState(const std::string& f) override { return real_.FolderState(f); }
  Status SaveFolderState(const std::string& f, const std::string& s) override {
    return real_.SaveFolderState(f, s);
  }
  Status Flush() override { return real_.Flush(); }
  Status Moving(const std::string& f, const std::string& k, const std::string& tf,
                const std::string& tk, const std::string& fp, const std::string& d,
                bool a) override {
    return real_.Moving(f, k, tf, tk, fp, d, a);
  }
  Status Forget(const std::string& f, const std::string& k) override { return real_.Forget(f, k); }
  Result<std::vector<std::string>> Folders() override { return real_.Folders(); }
  Status RenameFolder(const std::string& f, const std::string& t, const std::string& tt) override {
    return real_.RenameFolder(f, t, tt);
  }
  Status ForgetFolder(const std::string& f) override { return real_.ForgetFolder(f); }
  Result<SyncedFolder> Synced(const std::string& f) override { return real_.Synced(f); }
  Status SaveSynced(const std::string& f, const SyncedFolder& s) override {
    return real_.SaveSynced(f, s);
  }

 private:
  MessageMap& real_;
};

}  // namespace cm::testing
