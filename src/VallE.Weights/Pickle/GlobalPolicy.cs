namespace VallE.Weights.Pickle;

/// <summary>
/// Which globals a pickle may name at all. Nothing named is ever imported or called (the VM has no way to), so
/// this is not what keeps the process safe; it makes a hostile file fail loudly instead of loading as a pile of
/// inert placeholders. Globals that only an exploit would use (process, file system, interpreter, reflection,
/// network, nested unpickling) are refused with a clear error; everything else becomes a printable
/// <see cref="PyInert"/> unless a <see cref="PickleHost"/> interprets it.
/// </summary>
public static class GlobalPolicy
{
    /// <summary>Modules (and their submodules) no checkpoint ever needs.</summary>
    private static readonly string[] RefusedModules =
    [
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "shutil", "socket", "importlib", "runpy",
        "pickle", "_pickle", "pickletools", "marshal", "ctypes", "_ctypes", "code", "codeop", "pty", "commands",
        "multiprocessing", "threading", "_thread", "signal", "asyncio", "webbrowser", "io", "_io", "types",
        "operator", "_operator", "functools", "_functools", "inspect", "pdb", "bdb", "site", "sysconfig",
        "tempfile", "glob", "zipimport", "pkgutil", "urllib", "http", "ftplib", "smtplib", "telnetlib", "ssl",
        "select", "selectors", "mmap", "resource", "gc", "weakref", "timeit", "trace", "profile", "cProfile",
        "platform", "_posixsubprocess", "_winapi", "msvcrt", "winreg", "_winreg", "pydoc", "shelve", "dbm", "sqlite3",
        "tarfile", "zipfile", "distutils", "setuptools", "pip", "ensurepip", "venv", "idlelib", "cgi", "xmlrpc",
        "logging.config",
        "torch.hub", "torch.jit", "torch._C", "torch.ops", "torch.classes", "torch.package", "torch.utils.cpp_extension",
        "numpy.testing", "numpy.distutils", "numpy.f2py", "numpy.lib.npyio",
    ];

    /// <summary>Single globals refused although their module is otherwise harmless.</summary>
    private static readonly HashSet<string> RefusedGlobals = new(StringComparer.Ordinal)
    {
        "torch.load", "torch.save", "torch.serialization.load", "torch.storage._load_from_bytes", "numpy.load",
        "codecs.open",
    };

    /// <summary>Plain data classes that live in otherwise refused modules (training configs pickle them; they stay inert).</summary>
    private static readonly HashSet<string> InertExceptions = new(StringComparer.Ordinal)
    {
        "types.SimpleNamespace",
    };

    /// <summary>The builtins a data pickle uses; every other builtin (eval, exec, getattr, __import__, open...) is refused.</summary>
    private static readonly HashSet<string> AllowedBuiltins = new(StringComparer.Ordinal)
    {
        "set", "frozenset", "bytearray", "bytes", "list", "dict", "tuple", "int", "float", "complex", "str", "bool",
        "slice", "range", "object", "NotImplemented", "Ellipsis",
    };

    /// <summary>Python 2 module names that Python 3 pickle maps (fix_imports), so a policy sees one spelling.</summary>
    public static string NormalizeModule(string module) => module switch
    {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "exceptions" => "builtins",
        _ => module,
    };

    /// <summary>True when a pickle naming this global must be refused.</summary>
    public static bool IsRefused(string module, string name)
    {
        module = NormalizeModule(module);
        if (module.Length == 0 || name.Length == 0) return true;
        string full = module + "." + name;
        if (RefusedGlobals.Contains(full)) return true;
        if (InertExceptions.Contains(full)) return false;
        if (module == "builtins") return !AllowedBuiltins.Contains(name);
        // Dunder lookups (name "__class__", "x.__globals__") reach interpreter internals in a real unpickler.
        if (name.Contains("__", StringComparison.Ordinal)) return true;
        foreach (var m in RefusedModules)
        {
            if (full.Length > m.Length && full.StartsWith(m, StringComparison.Ordinal) && full[m.Length] == '.') return true;
        }
        return false;
    }

    public static string RefusalMessage(string source, string module, string name) =>
        $"{source}: refusing global '{NormalizeModule(module)}.{name}' (checkpoints never need it)";
}
