"""Stand-alone player modules copied into trained packages.

Each imports only NumPy (and PyTorch for networks), never the arena, so a trained
package runs anywhere the agent protocol is honoured.
"""
