# A small stand-in for nixpkgs' lib.evalModules, enough to evaluate
# nix/modules/*.nix and pxeforge's nixos/*.nix without nixpkgs: option
# declarations with defaults and types; mkIf (and nixpkgs' mkMerge) pushed
# down into attributes, so that conditions can read config; mkBefore
# ordering; where no option is declared (services.*, systemd.*…, which
# nixpkgs would declare), lists concatenated and strings joined as lines.
# Returns { config; }, like the real one.
{
  modules,
  pkgs ? { },
}:

let
  lib = import ./stub-lib.nix;
  inherit (builtins)
    attrNames
    concatMap
    filter
    foldl'
    isAttrs
    isFunction
    listToAttrs
    ;

  typeOf = v: if isAttrs v then v._type or null else null;

  evaluated = map (
    m0:
    let
      m = if builtins.isPath m0 || builtins.isString m0 then import m0 else m0;
      r = if isFunction m then m { inherit config lib pkgs; } else m;
    in
    if r ? options || r ? config then r else { config = r; }
  ) modules;

  # nixpkgs' option trees may nest; merge the declarations of all modules.
  mergeDecls =
    a: b:
    if typeOf a == "option" || typeOf b == "option" then
      throw "option declared twice"
    else
      a // builtins.mapAttrs (n: v: if a ? ${n} then mergeDecls a.${n} v else v) b;
  decls = foldl' mergeDecls { } (map (m: m.options or { }) evaluated);

  # mkIf c { a = x; } -> [ { a = mkIf c x; } ], without evaluating c.
  pushDown =
    def:
    if typeOf def == "merge" then
      concatMap pushDown def.contents
    else if typeOf def == "if" then
      map (builtins.mapAttrs (_: lib.mkIf def.condition)) (pushDown def.content)
    else if typeOf def == "order" then
      throw "mkBefore around an attribute set"
    else
      [ def ];

  # Properties removed, conditions decided: [ { value; prio; } ].
  flatten =
    prio: def:
    if typeOf def == "if" then
      (if def.condition then flatten prio def.content else [ ])
    else if typeOf def == "merge" then
      concatMap (flatten prio) def.contents
    else if typeOf def == "order" then
      flatten def.priority def.content
    else
      [ { value = def; inherit prio; } ];

  # Is this (possibly wrapped) definition an attribute set of options?
  isTree =
    def:
    if typeOf def == "if" then
      isTree def.content
    else if typeOf def == "merge" then
      builtins.any isTree def.contents
    else
      isAttrs def && typeOf def == null;

  mergeUndeclared =
    path: defs:
    let
      vs = builtins.sort (a: b: a.prio < b.prio) defs;
      first = (builtins.head vs).value;
    in
    if builtins.isList first then
      concatMap (d: d.value) vs
    else if builtins.isString first then
      builtins.concatStringsSep "\n" (map (d: d.value) vs)
    else
      lib.types.unspecified.merge path vs;

  evalOption =
    path: opt: defs:
    let
      vs = concatMap (flatten 1000) defs;
      type = opt.type or lib.types.unspecified;
      v = if vs == [ ] then opt.default else type.merge path vs;
    in
    if vs == [ ] && !(opt ? default) then
      throw "option ${path} is used but not defined"
    else if !(type.check v) then
      throw "option ${path}: ${builtins.toJSON v} is not ${type.name}"
    else
      v;

  evalAt =
    path: decl: defs:
    if typeOf decl == "option" then
      evalOption path decl defs
    else if decl == null && defs != [ ] && !(builtins.all isTree defs) then
      mergeUndeclared path (concatMap (flatten 1000) defs)
    else
      let
        pushed = concatMap pushDown defs;
        declared = if decl == null then { } else decl;
        names = lib.unique (attrNames declared ++ concatMap attrNames pushed);
      in
      listToAttrs (
        map (n: {
          name = n;
          value = evalAt (if path == "" then n else "${path}.${n}") (declared.${n} or null) (
            map (d: d.${n}) (filter (d: d ? ${n}) pushed)
          );
        }) names
      );

  config = evalAt "" decls (map (m: m.config or { }) evaluated);
in
{
  inherit config;
}
