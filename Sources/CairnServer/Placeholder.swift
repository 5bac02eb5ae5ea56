// The server module; see Package.swift.
