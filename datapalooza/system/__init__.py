"""What the programs need from the machine they run on: free local ports, the limits
the local HTTP servers enforce, sweeping temp files a killed writer left, and handing a
large frame's memory back. No domain logic here."""
