//! `epri devices`: the compute devices this build can use.

use crate::dispatch::describe_devices;
use crate::error::Result;

/// Prints one block per kind of backend: the devices found, or why there are none.
pub fn run() -> Result<()> {
    for (kind, found) in describe_devices() {
        match found {
            Ok(list) if list.is_empty() => println!("{kind:<7} none found"),
            Ok(list) => {
                for (i, dev) in list.iter().enumerate() {
                    let head = if i == 0 { kind.as_str() } else { "" };
                    println!("{head:<7} {dev}");
                }
            }
            Err(why) => println!("{kind:<7} unavailable: {}", why.replace('\n', " ")),
        }
    }
    println!();
    println!(
        "Select one with --backend cpu | opencl | opencl:<platform>:<device> | cuda | cuda:<index>"
    );
    Ok(())
}
