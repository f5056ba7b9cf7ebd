// depup's reader of TypeScript declarations and JavaScript/TypeScript imports, run by bot/breaking/typescript.py
// as `node ts_api.cjs <typescript.js>` with one JSON request on stdin and one JSON answer on stdout.
//
// It only parses and type-checks files as data with the TypeScript compiler API: it never runs, requires or
// evaluates the files it reads, and its compiler host refuses every file outside the request's folder (and
// the declarations it reads are the only program: no default library, no @types lookup).
//
// {"command": "api", "jobs": [{"root": dir, "package": name, "entries": {".": "index.d.ts", "./client": "client.d.ts"}}, ...]}
//   -> {"jobs": [{"entries": {".": {"symbols": {name: {kind, sigs, deprecated}}, "returns": {name: type}}}}, ...]}
//   sigs: per call signature, per parameter [name, optional, rest, type text, member names or null];
//   opaque: true when a value's type is not known (any, or declared by a package that is not read)
// {"command": "uses", "package": "express", "files": [path, ...]}
//   -> {"files": {path: [[line, kind, path], [line, "call", path, argument count or -1], ...]}}
"use strict";

const fs = require("fs");
const path = require("path");
const ts = require(process.argv[2]);

const MAX_MEMBERS = 400;
const MAX_SYMBOLS = 20000;
const MAX_TYPE_TEXT = 120;
const MAX_PARAMETER_MEMBERS = 64; // a parameter type with more members is not compared member by member

function main() {
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  let answer;
  if (request.command === "api") answer = { jobs: request.jobs.map((job) => api(job.root, job.entries, job.package)) };
  else if (request.command === "uses") answer = uses(request.package, request.files);
  else throw new Error("unknown command " + request.command);
  process.stdout.write(JSON.stringify(answer));
}

// ---- declarations ----------------------------------------------------------------------------------------

function confinedHost(root, options) {
  const host = ts.createCompilerHost(options, true);
  const inside = (p) => {
    const resolved = path.resolve(p);
    return resolved === root || resolved.startsWith(root + path.sep);
  };
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  const directoryExists = host.directoryExists ? host.directoryExists.bind(host) : (p) => fs.existsSync(p);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (p) => inside(p) && fileExists(p);
  host.readFile = (p) => (inside(p) ? readFile(p) : undefined);
  host.directoryExists = (p) => inside(p) && directoryExists(p);
  host.getDirectories = (p) => (inside(p) ? fs.readdirSync(p).filter((d) => fs.statSync(path.join(p, d)).isDirectory()) : []);
  host.realpath = (p) => p; // symlinks were refused when the files were unpacked
  host.getSourceFile = (p, ...rest) => (inside(p) ? getSourceFile(p, ...rest) : undefined);
  host.getDefaultLibFileName = () => path.join(root, "__no_lib__.d.ts");
  return host;
}

function api(rootDir, entries, pkg) {
  const root = path.resolve(rootDir);
  const options = {
    noLib: true,
    types: [],
    typeRoots: [],
    noEmit: true,
    skipLibCheck: true,
    allowJs: false,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    allowSyntheticDefaultImports: true,
  };
  const names = Object.keys(entries).sort();
  const files = names.map((n) => path.resolve(root, entries[n]));
  const program = ts.createProgram(files, options, confinedHost(root, options));
  const checker = program.getTypeChecker();
  const out = {};
  let budget = MAX_SYMBOLS;
  for (let i = 0; i < names.length; i++) {
    const source = program.getSourceFile(files[i]);
    const result = { symbols: {}, returns: {}, module: false };
    out[names[i]] = result;
    if (!source) continue;
    // a global script declaring the package as an ambient module (mongoose: `declare module 'mongoose' {...}`
    // in types/index.d.ts) is read as that module; another global script has nothing to import
    const moduleSymbol = checker.getSymbolAtLocation(source) || ambientModule(checker, pkg, names[i]);
    if (!moduleSymbol) continue;
    result.module = true;
    const add = (name, info) => {
      if (budget > 0 && !(name in result.symbols)) {
        result.symbols[name] = info;
        budget--;
      }
    };
    const exportEquals = moduleSymbol.exports && moduleSymbol.exports.get("export=");
    if (exportEquals) {
      const target = resolve(checker, exportEquals);
      const decl = firstDeclaration(target);
      if (decl && target.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Variable | ts.SymbolFlags.Class)) {
        add("", describe(checker, target, decl));
        const ret = returnTypeName(checker, target, decl);
        if (ret) result.returns[""] = ret;
      }
    }
    const exported = checker.getExportsOfModule(moduleSymbol).slice().sort((a, b) => cmp(a.name, b.name));
    for (const symbol of exported) walk(checker, symbol, symbol.name, 0, add, result.returns);
  }
  return { entries: out };
}

function ambientModule(checker, pkg, subpath) {
  if (typeof pkg !== "string" || !pkg) return undefined;
  const name = subpath === "." ? pkg : pkg + subpath.slice(1);
  return checker.getAmbientModules().find((m) => m.name === '"' + name + '"');
}

function walk(checker, exportedSymbol, name, depth, add, returns) {
  if (name === "export=" || name === "__esModule" || /(^|\.)__@/.test(name)) return;
  const symbol = resolve(checker, exportedSymbol);
  const decl = firstDeclaration(symbol);
  if (!decl) {
    // re-exported from a module that is not here (`export { act } from "react"`): the name is still exported
    const own = firstDeclaration(exportedSymbol);
    if (own) add(name, { kind: "reexport", deprecated: deprecation(exportedSymbol), sigs: null });
    return;
  }
  add(name, describe(checker, symbol, decl));
  if (depth >= 2) return;
  const ret = returnTypeName(checker, symbol, decl);
  if (ret) returns[name] = ret;
  const flags = symbol.flags;
  if (flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) {
    const declared = checker.getDeclaredTypeOfSymbol(symbol);
    const members = checker.getPropertiesOfType(declared).slice().sort((a, b) => cmp(a.name, b.name));
    for (const member of members.slice(0, MAX_MEMBERS)) {
      const d = firstDeclaration(member);
      if (d && !isPrivate(d) && !member.name.startsWith("__@")) add(name + "." + member.name, describe(checker, member, d));
    }
  }
  if (flags & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) {
    const inner = checker.getExportsOfModule(symbol).slice().sort((a, b) => cmp(a.name, b.name));
    for (const member of inner.slice(0, MAX_MEMBERS)) walk(checker, member, name + "." + member.name, depth + 1, add, returns);
  }
  if (flags & ts.SymbolFlags.Class) {
    const statics = checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(symbol, decl));
    for (const member of statics.slice(0, MAX_MEMBERS)) {
      const d = firstDeclaration(member);
      if (d && member.name !== "prototype" && !isPrivate(d)) add(name + "." + member.name, describe(checker, member, d));
    }
  }
}

function resolve(checker, symbol) {
  if (symbol.flags & ts.SymbolFlags.Alias) {
    try {
      return checker.getAliasedSymbol(symbol);
    } catch (e) {
      return symbol;
    }
  }
  return symbol;
}

function firstDeclaration(symbol) {
  return symbol && symbol.declarations && symbol.declarations.length ? symbol.declarations[0] : undefined;
}

function isPrivate(decl) {
  const flags = ts.getCombinedModifierFlags(decl);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 || (decl.name && ts.isPrivateIdentifier(decl.name));
}

function kindOf(symbol) {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return "class";
  if (f & ts.SymbolFlags.Function) return "function";
  if (f & ts.SymbolFlags.Method) return "method";
  if (f & ts.SymbolFlags.Interface) return "interface";
  if (f & ts.SymbolFlags.Enum) return "enum";
  if (f & ts.SymbolFlags.TypeAlias) return "type";
  if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return "namespace";
  if (f & ts.SymbolFlags.Property) return "property";
  if (f & ts.SymbolFlags.Variable) return "variable";
  return "other";
}

function deprecation(symbol) {
  // Deprecated when every declaration (every overload) carries @deprecated: one deprecated overload of several
  // does not deprecate the name.
  const decls = symbol.declarations || [];
  if (!decls.length) return null;
  let text = null;
  for (const decl of decls) {
    const tag = ts.getJSDocTags(decl).find((t) => t.tagName && t.tagName.text === "deprecated");
    if (!tag) return null;
    if (text === null) text = oneLine(ts.getTextOfJSDocComment(tag.comment) || "");
  }
  return text;
}

function oneLine(text) {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

function describe(checker, symbol, decl) {
  const info = { kind: kindOf(symbol), deprecated: deprecation(symbol), sigs: null };
  const callable = symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Method | ts.SymbolFlags.Variable | ts.SymbolFlags.Property);
  let signatures = [];
  try {
    if (callable) {
      const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
      // any, or a type from a package that is not read (`React.ForwardRefExoticComponent` without @types/react)
      if (type.flags & ts.TypeFlags.Any) info.opaque = true;
      signatures = type.getCallSignatures();
    }
    else if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) signatures = implementedSignatures(checker, symbol);
  } catch (e) {
    signatures = [];
  }
  if (signatures.length) {
    const seen = new Set();
    info.sigs = signatures.slice(0, 20).map((sig) => sig.getParameters().map((p) => parameter(checker, p, decl))).filter((sig) => {
      const key = JSON.stringify(sig);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  return info;
}

// The call signatures of an interface or type alias a plain function can be written for (`type FC<P> =
// FunctionComponent<P>`, `interface RequestHandler { (req, res, next): void }`): callable, every other member
// optional. What such a function receives is what its parameters' types give it. A type with required members
// (express's `Express`) is made by the package, not written by its users.
function implementedSignatures(checker, symbol) {
  const declared = checker.getDeclaredTypeOfSymbol(symbol);
  const signatures = declared.getCallSignatures();
  if (!signatures.length) return [];
  const members = checker.getPropertiesOfType(declared);
  return members.every((m) => m.flags & ts.SymbolFlags.Optional) ? signatures : [];
}

// [name, optional, rest, type as written by the checker, the type's property names or null when not known]
function parameter(checker, p, at) {
  const pd = firstDeclaration(p);
  const optional = !!(pd && ts.isParameter(pd) && (pd.questionToken || pd.initializer || pd.dotDotDotToken));
  const rest = !!(pd && ts.isParameter(pd) && pd.dotDotDotToken);
  let text = "";
  let props = null;
  try {
    const type = checker.getTypeOfSymbolAtLocation(p, pd || at);
    text = checker.typeToString(type).slice(0, MAX_TYPE_TEXT);
    // any/unknown (also what an unresolved import becomes) and primitives say nothing about members
    const opaque = ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Primitive | ts.TypeFlags.Never;
    if (!(type.flags & opaque)) {
      const names = checker.getPropertiesOfType(type).map((m) => m.name).filter((n) => !n.startsWith("__@"));
      if (names.length <= MAX_PARAMETER_MEMBERS) props = names.sort(cmp);
    }
  } catch (e) {
    props = null;
  }
  return [p.name, optional, rest, text, props];
}

function returnTypeName(checker, symbol, decl) {
  if (!(symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Variable))) return null;
  let signatures;
  try {
    signatures = checker.getTypeOfSymbolAtLocation(symbol, decl).getCallSignatures();
  } catch (e) {
    return null;
  }
  for (const sig of signatures) {
    const type = checker.getReturnTypeOfSignature(sig);
    const named = type.getSymbol();
    if (named && named.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class) && !named.name.startsWith("__")) return named.name;
  }
  return null;
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- uses in the repository's code ---------------------------------------------------------------------

function scriptKind(file) {
  if (/\.(tsx)$/.test(file)) return ts.ScriptKind.TSX;
  if (/\.(ts|mts|cts)$/.test(file)) return ts.ScriptKind.TS;
  if (/\.(jsx)$/.test(file)) return ts.ScriptKind.JSX;
  return ts.ScriptKind.JSX; // .js/.mjs/.cjs: JSX is common in .js files of React apps
}

function uses(pkg, files) {
  const out = {};
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      continue;
    }
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
    out[file] = usesIn(pkg, source);
  }
  return { files: out };
}

function moduleBase(pkg, spec) {
  if (spec === pkg) return pkg;
  if (spec.startsWith(pkg + "/")) return spec;
  return null;
}

function requiredSpec(node) {
  // require('pkg') -> 'pkg'
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "require" &&
      node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0])) {
    return node.arguments[0].text;
  }
  return null;
}

function usesIn(pkg, source) {
  const found = [];
  const line = (node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const bindings = new Map(); // local name -> {path, instance}
  const declared = new Set(); // identifier nodes that declare a binding
  const emit = (node, kind, p) => found.push([line(node), kind, p]);

  // require('pkg').a.b -> ["pkg", "a", "b"] (also for `import('pkg')` results, not followed)
  const pathOf = (node) => {
    const members = [];
    let cur = node;
    while (ts.isPropertyAccessExpression(cur)) {
      members.unshift(cur.name.text);
      cur = cur.expression;
    }
    if (ts.isParenthesizedExpression(cur)) cur = cur.expression;
    let base = null;
    const spec = requiredSpec(cur);
    if (spec !== null) base = moduleBase(pkg, spec);
    else if (ts.isIdentifier(cur) && bindings.has(cur.text) && !declared.has(cur)) base = bindings.get(cur.text).path;
    if (base === null) return null;
    return members.length ? base + "." + members.join(".") : base;
  };

  // whether an expression starts at a value the package made (app, req), not at the package itself
  const fromInstance = (node) => {
    let cur = node;
    while (ts.isPropertyAccessExpression(cur)) cur = cur.expression;
    return ts.isIdentifier(cur) && bindings.has(cur.text) && bindings.get(cur.text).instance;
  };

  const bindPattern = (pattern, base) => {
    for (const element of pattern.elements) {
      if (!ts.isBindingElement(element) || element.dotDotDotToken) continue;
      const key = element.propertyName ? element.propertyName.getText(source) : element.name.getText(source);
      if (ts.isIdentifier(element.name)) {
        bindings.set(element.name.text, { path: base + "." + key, instance: false });
        declared.add(element.name);
        emit(element, "import", base + "." + key);
      } else if (ts.isObjectBindingPattern(element.name)) bindPattern(element.name, base + "." + key);
    }
  };

  // pass 1: imports and requires
  const collect = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteralLike(node.moduleSpecifier)) {
      const base = moduleBase(pkg, node.moduleSpecifier.text);
      if (base !== null) {
        emit(node, "module", base);
        const clause = node.importClause;
        if (clause && clause.name) {
          // `default` marks a default import: the package's `export default`, or (CommonJS) the module itself
          bindings.set(clause.name.text, { path: base + ".default", instance: false });
          declared.add(clause.name);
        }
        const named = clause && clause.namedBindings;
        if (named && ts.isNamespaceImport(named)) {
          bindings.set(named.name.text, { path: base, instance: false });
          declared.add(named.name);
        } else if (named && ts.isNamedImports(named)) {
          for (const spec of named.elements) {
            const key = (spec.propertyName || spec.name).text;
            const p = base + "." + key;
            bindings.set(spec.name.text, { path: p, instance: false });
            declared.add(spec.name);
            emit(spec, "import", p);
          }
        }
      }
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) &&
               ts.isStringLiteralLike(node.moduleReference.expression)) {
      const base = moduleBase(pkg, node.moduleReference.expression.text);
      if (base !== null) {
        emit(node, "module", base);
        bindings.set(node.name.text, { path: base, instance: false });
        declared.add(node.name);
      }
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteralLike(node.moduleSpecifier)) {
      const base = moduleBase(pkg, node.moduleSpecifier.text);
      if (base !== null) {
        emit(node, "module", base);
        if (node.exportClause && ts.isNamedExports(node.exportClause)) {
          for (const spec of node.exportClause.elements) emit(spec, "import", base + "." + (spec.propertyName || spec.name).text);
        }
      }
    } else if (ts.isCallExpression(node) && requiredSpec(node) !== null) {
      const base = moduleBase(pkg, requiredSpec(node));
      if (base !== null) emit(node, "module", base);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
               node.arguments.length && ts.isStringLiteralLike(node.arguments[0])) {
      const base = moduleBase(pkg, node.arguments[0].text);
      if (base !== null) emit(node, "module", base);
    }
    if (ts.isVariableDeclaration(node) && node.initializer) {
      let init = node.initializer;
      if (ts.isAwaitExpression(init)) init = init.expression;
      const p = requireChain(init);
      if (p !== null) {
        if (ts.isIdentifier(node.name)) {
          bindings.set(node.name.text, { path: p, instance: false });
          declared.add(node.name);
        } else if (ts.isObjectBindingPattern(node.name)) bindPattern(node.name, p);
      }
    }
    ts.forEachChild(node, collect);
  };
  // require('pkg') or require('pkg').a.b (not through local names yet)
  const requireChain = (node) => {
    const members = [];
    let cur = node;
    while (ts.isPropertyAccessExpression(cur)) {
      members.unshift(cur.name.text);
      cur = cur.expression;
    }
    const spec = requiredSpec(cur);
    const base = spec === null ? null : moduleBase(pkg, spec);
    if (base === null) return null;
    return members.length ? base + "." + members.join(".") : base;
  };
  collect(source);
  if (bindings.size === 0) return found;

  // pass 2: values made from the package (calls, `new`, type annotations) and callback parameters of their methods
  const typeName = (typeNode) => {
    if (!typeNode || !ts.isTypeReferenceNode(typeNode)) return null;
    const parts = [];
    let cur = typeNode.typeName;
    while (ts.isQualifiedName(cur)) {
      parts.unshift(cur.right.text);
      cur = cur.left;
    }
    if (!ts.isIdentifier(cur) || !bindings.has(cur.text)) return null;
    const base = bindings.get(cur.text).path;
    return parts.length ? base + "." + parts.join(".") : base;
  };
  const instances = (node) => {
    if ((ts.isVariableDeclaration(node) || ts.isParameter(node)) && ts.isIdentifier(node.name) && !bindings.has(node.name.text)) {
      const annotated = typeName(node.type);
      if (annotated !== null) {
        bindings.set(node.name.text, { path: annotated, instance: true });
        declared.add(node.name);
      } else if (ts.isVariableDeclaration(node) && node.initializer) {
        const init = node.initializer;
        if ((ts.isCallExpression(init) || ts.isNewExpression(init)) && requiredSpec(init) === null && !fromInstance(init.expression)) {
          const callee = pathOf(init.expression);
          if (callee !== null) {
            bindings.set(node.name.text, { path: callee + (ts.isNewExpression(init) ? "" : "()"), instance: true });
            declared.add(node.name);
          }
        }
      }
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const receiver = pathOf(node.expression.expression);
      if (receiver !== null) {
        for (const arg of node.arguments) {
          if (ts.isArrowFunction(arg) || ts.isFunctionExpression(arg)) {
            for (const param of arg.parameters) {
              if (ts.isIdentifier(param.name) && !param.type && !bindings.has(param.name.text)) {
                bindings.set(param.name.text, { path: pkg + ".?", instance: true });
                declared.add(param.name);
              }
            }
          }
        }
      }
    }
    ts.forEachChild(node, instances);
  };
  instances(source);

  // pass 3: references; a call also says how many arguments it passes
  const emitRef = (node, top, p) => {
    const call = top.parent;
    if (call && (ts.isCallExpression(call) || ts.isNewExpression(call)) && call.expression === top) {
      const args = call.arguments || [];
      const spread = args.some((a) => ts.isSpreadElement(a));
      found.push([line(node), "call", p, spread ? -1 : args.length]);
    } else emit(node, "ref", p);
  };
  const refs = (node) => {
    if (ts.isIdentifier(node) && bindings.has(node.text) && !declared.has(node) && isReference(node)) {
      let top = node;
      while (ts.isPropertyAccessExpression(top.parent) && top.parent.expression === top) top = top.parent;
      const p = pathOf(top);
      if (p !== null) emitRef(node, top, p);
    } else if (ts.isTypeReferenceNode(node)) {
      const p = typeName(node);
      if (p !== null) emit(node, "ref", p);
      return;
    } else if (ts.isPropertyAccessExpression(node) && requiredSpec(node.expression) !== null) {
      let top = node;
      while (ts.isPropertyAccessExpression(top.parent) && top.parent.expression === top) top = top.parent;
      const p = pathOf(top);
      if (p !== null) emitRef(node, top, p);
      return;
    }
    ts.forEachChild(node, refs);
  };
  refs(source);
  return found;
}

function isReference(node) {
  const parent = node.parent;
  if (!parent) return false;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent) ||
       ts.isPropertySignature(parent) || ts.isMethodSignature(parent)) && parent.name === node) return false;
  if (ts.isImportSpecifier(parent) || ts.isImportClause(parent) || ts.isNamespaceImport(parent)) return false;
  if (ts.isExportSpecifier(parent)) return false;
  if (ts.isBindingElement(parent) && (parent.propertyName === node || parent.name === node)) return false;
  if (ts.isQualifiedName(parent)) return false;
  if (ts.isJsxAttribute(parent) && parent.name === node) return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  return true;
}

main();
