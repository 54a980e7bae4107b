# The part of nixpkgs' lib that flake.nix and nix/ use,
# written with builtins so that the tests need no nixpkgs. Types only know
# how to check and merge definitions (eval-modules.nix); properties are
# the same _type-tagged attrsets as nixpkgs' (mkIf, mkBefore).
let
  inherit (builtins)
    all
    concatMap
    concatStringsSep
    elem
    foldl'
    head
    isString
    match
    sort
    ;

  # defs: [ { value; prio; } ], prio 500 from mkBefore, else 1000
  byPrio = defs: sort (a: b: a.prio < b.prio) defs;
  mergeEqual =
    path: defs:
    let
      v = (head defs).value;
    in
    if all (d: d.value == v) defs then v else throw "conflicting definitions of ${path}";
  mkType = name: check: merge: {
    _type = "type";
    inherit name check merge;
  };
  single = name: check: mkType name check mergeEqual;
in
rec {
  inherit concatMap concatStringsSep;
  any = builtins.any;
  # enough for PCI ids, which are hex
  toLower = builtins.replaceStrings [ "A" "B" "C" "D" "E" "F" ] [ "a" "b" "c" "d" "e" "f" ];
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
  filterAttrs =
    pred: as: builtins.removeAttrs as (builtins.filter (n: !pred n as.${n}) (builtins.attrNames as));
  getOutput = o: p: p.${o} or p;
  getBin = getOutput "bin";
  getLib = getOutput "lib";
  getExe' = p: name: "${getBin p}/bin/${name}";
  warnIf = c: msg: v: if c then builtins.trace "warning: ${msg}" v else v;
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
  # toSource gives the root; a file set naming a missing path is an error,
  # as in nixpkgs.
  fileset = {
    unions = xs: xs;
    toSource =
      { root, fileset }:
      let
        missing = builtins.filter (p: !builtins.pathExists p) fileset;
      in
      if missing == [ ] then toString root else throw "fileset: missing ${toString missing}";
  };

  mkOption = args: args // { _type = "option"; };
  mkEnableOption = name: mkOption {
    type = types.bool;
    default = false;
    description = "Whether to enable ${name}.";
  };

  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkBefore = content: {
    _type = "order";
    priority = 500;
    inherit content;
  };

  types = rec {
    unspecified = single "unspecified" (_: true);
    bool = single "bool" builtins.isBool;
    str = single "str" isString;
    strMatching = re: single "strMatching ${re}" (v: isString v && match re v != null);
    enum = values: single "one of ${concatStringsSep ", " values}" (v: elem v values);
    nullOr = t: mkType "null or ${t.name}" (v: v == null || t.check v) t.merge;
    lines = mkType "lines" isString (
      _: defs: concatStringsSep "\n" (map (d: d.value) (byPrio defs))
    );
    listOf =
      t:
      mkType "list of ${t.name}" (v: builtins.isList v && all t.check v) (
        _: defs: concatMap (d: d.value) (byPrio defs)
      );
    # Elements keep only what was defined: nix/ reads optional fields
    # with `or`, so nothing here fills in defaults.
    submodule = m: single "submodule" builtins.isAttrs;
  };
}
