// The witness module; see Package.swift.
