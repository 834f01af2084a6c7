module github.com/rootguard/rootguard

go 1.26
