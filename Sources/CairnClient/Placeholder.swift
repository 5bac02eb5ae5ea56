// The client module; see Package.swift.
